from monitor_helpers import findings

PKG = {"pkg/__init__.py": "", "pkg/used.py": "X = 1\n", "pkg/__main__.py": "from pkg import used\n"}


def test_undiscovered_module():
    assert findings({**PKG, "pkg/orphan.py": "Y = 2\n"}) == [("UNDISCOVERED_MODULE", "module.pkg.orphan")]


def test_imported_modules_are_discovered():
    assert findings(PKG) == []
    files = {**PKG, "pkg/orphan.py": "", "pkg/x.py": "import pkg.orphan\n"}
    assert findings(files) == [("UNDISCOVERED_MODULE", "module.pkg.x")]  # the importer itself is not


def test_dotted_strings_and_settings_lists_discover_modules():
    files = {**PKG, "pkg/plugin.py": "", "pkg/conf.py": 'PLUGINS = ["pkg.plugin"]\n'}
    assert findings(files) == []  # conf.py is an entry by convention
    files = {**PKG, "pkg/plugin.py": "", "pkg/x.py": 'importlib.import_module("pkg.plugin")\n'}
    assert findings(files) == [("UNDISCOVERED_MODULE", "module.pkg.x")]


def test_entry_points_are_not_undiscovered():
    for entry in ("pkg/__main__.py", "pkg/manage.py", "pkg/tasks.py", "pkg/migrations/0001_initial.py",
                  "pkg/management/commands/sync.py", "pkg/tests/test_x.py", "pkg/settings.py"):  # fmt: skip
        assert findings({**PKG, entry: "X = 1\n"}) == [], entry
    script = 'def main():\n    pass\nif __name__ == "__main__":\n    main()\n'
    assert findings({**PKG, "pkg/tool.py": script}) == []


def test_top_level_modules_and_runtime_loaders_are_not_asked_about():
    assert findings({"lonely.py": "X = 1\n"}) == []
    files = {**PKG, "pkg/orphan.py": "", "pkg/loader.py": "importlib.import_module(name)\n"}
    assert findings(files) == []


def test_missing_installed_app():
    settings = {
        "site/__init__.py": "",
        "site/settings.py": 'INSTALLED_APPS = ["django.contrib.admin", "site.blog"]\n',
    }
    assert findings(settings) == [("MISSING_CAPABILITY", "module.site.blog")]  # and not django
    assert findings({**settings, "site/blog/__init__.py": ""}) == []


def test_app_config_path_needs_only_its_module():
    files = {"site/__init__.py": "", "site/settings.py": 'INSTALLED_APPS = ["site.blog.apps.BlogConfig"]\n'}
    app = {"site/blog/__init__.py": "", "site/blog/apps.py": "class BlogConfig(AppConfig):\n    name = 'x'\n"}
    assert findings({**files, **app}) == []
    assert findings({**files, **app, "site/blog/apps.py": ""}) == [
        ("MISSING_CAPABILITY", "module.site.blog.apps.BlogConfig")
    ]


def test_missing_celery_include_and_entry_point():
    files = {"proj/__init__.py": "", "proj/celery.py": 'app = Celery("proj", include=["proj.jobs"])\n'}
    assert findings(files) == [("MISSING_CAPABILITY", "module.proj.jobs")]
    assert findings({**files, "proj/jobs.py": ""}) == []
    cfg = {
        "proj/__init__.py": "",
        "setup.cfg": "[options.entry_points]\nconsole_scripts =\n    run = proj.cli:main\n",
    }
    assert findings(cfg) == [("MISSING_CAPABILITY", "module.proj.cli")]
    assert findings({**cfg, "proj/cli.py": "def main():\n    pass\n"}) == []
