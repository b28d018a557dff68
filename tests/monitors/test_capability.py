from tests.monitors.monitor_helpers import asks

PKG = {"pkg/__init__.py": "", "pkg/used.py": "X = 1\n", "pkg/__main__.py": "from pkg import used\n"}


def test_undiscovered_module():
    assert asks({**PKG, "pkg/orphan.py": "Y = 2\n"}, "UNDISCOVERED_MODULE", "pkg.orphan")


def test_imported_modules_are_discovered():
    assert not asks(PKG, "UNDISCOVERED_MODULE", "pkg.used")
    files = {**PKG, "pkg/orphan.py": "", "pkg/x.py": "import pkg.orphan\n"}
    assert not asks(files, "UNDISCOVERED_MODULE", "pkg.orphan")


def test_dotted_strings_and_settings_lists_discover_modules():
    files = {**PKG, "pkg/plugin.py": "", "pkg/conf.py": 'PLUGINS = ["pkg.plugin"]\n'}
    assert not asks(files, "UNDISCOVERED_MODULE", "pkg.plugin")
    files = {**PKG, "pkg/plugin.py": "", "pkg/x.py": 'importlib.import_module("pkg.plugin")\n'}
    assert not asks(files, "UNDISCOVERED_MODULE", "pkg.plugin")


def test_entry_points_are_not_undiscovered():
    for entry in ("pkg/__main__.py", "pkg/manage.py", "pkg/tasks.py", "pkg/migrations/0001_initial.py",
                  "pkg/management/commands/sync.py", "pkg/tests/test_x.py", "pkg/settings.py"):  # fmt: skip
        assert not asks({**PKG, entry: "X = 1\n"}, "UNDISCOVERED_MODULE"), entry
    script = 'def main():\n    pass\nif __name__ == "__main__":\n    main()\n'
    assert not asks({**PKG, "pkg/tool.py": script}, "UNDISCOVERED_MODULE")


def test_top_level_modules_and_runtime_loaders_are_not_asked_about():
    assert not asks({"lonely.py": "X = 1\n"}, "UNDISCOVERED_MODULE")
    files = {**PKG, "pkg/orphan.py": "", "pkg/loader.py": "importlib.import_module(name)\n"}
    assert not asks(files, "UNDISCOVERED_MODULE", "pkg.orphan")


def test_missing_installed_app():
    settings = {
        "site/__init__.py": "",
        "site/settings.py": 'INSTALLED_APPS = ["django.contrib.admin", "site.blog"]\n',
    }
    assert asks(settings, "MISSING_CAPABILITY", "site.blog")
    assert not asks(settings, "MISSING_CAPABILITY", "django")
    assert not asks({**settings, "site/blog/__init__.py": ""}, "MISSING_CAPABILITY")


def test_app_config_path_needs_only_its_module():
    files = {"site/__init__.py": "", "site/settings.py": 'INSTALLED_APPS = ["site.blog.apps.BlogConfig"]\n'}
    app = {"site/blog/__init__.py": "", "site/blog/apps.py": "class BlogConfig(AppConfig):\n    name = 'x'\n"}
    assert not asks({**files, **app}, "MISSING_CAPABILITY")
    assert asks({**files, **app, "site/blog/apps.py": ""}, "MISSING_CAPABILITY", "BlogConfig")


def test_missing_celery_include_and_entry_point():
    files = {"proj/__init__.py": "", "proj/celery.py": 'app = Celery("proj", include=["proj.jobs"])\n'}
    assert asks(files, "MISSING_CAPABILITY", "proj.jobs")
    assert not asks({**files, "proj/jobs.py": ""}, "MISSING_CAPABILITY")
    cfg = {
        "proj/__init__.py": "",
        "setup.cfg": "[options.entry_points]\nconsole_scripts =\n    run = proj.cli:main\n",
    }
    assert asks(cfg, "MISSING_CAPABILITY", "proj.cli")
    assert not asks({**cfg, "proj/cli.py": "def main():\n    pass\n"}, "MISSING_CAPABILITY")
