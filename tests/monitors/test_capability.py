from monitors.config import Config
from tests.monitors.monitor_helpers import findings

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


def test_top_level_modules_and_modules_of_a_package_scanned_at_runtime_are_not_asked_about():
    assert findings({"lonely.py": "X = 1\n"}) == []
    files = {**PKG, "pkg/orphan.py": "", "pkg/loader.py": "pkgutil.iter_modules(__path__)\n"}
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


# -- libraries: public modules are API ---------------------------------------------------

# django/middleware (5.2): LocaleMiddleware and SecurityMiddleware are named only in settings
MIDDLEWARE = {
    "django/__init__.py": "",
    "django/middleware/__init__.py": "",
    "django/middleware/common.py": '"""Common middleware."""\nclass CommonMiddleware(MiddlewareMixin):\n    """Redirects."""\n',
    "django/middleware/locale.py": '"""Locale middleware."""\nclass LocaleMiddleware(MiddlewareMixin):\n    """Selects a language."""\n',
    "django/middleware/security.py": '"""Security middleware."""\nclass SecurityMiddleware(MiddlewareMixin):\n    """Sets headers."""\n',
    "django/middleware/_compat.py": '"""Private helpers."""\nPY = 3\n',
    "django/__main__.py": '"""Run."""\nfrom django.middleware.common import CommonMiddleware\n',
}


def test_a_library_asks_only_about_private_modules():
    assert findings(MIDDLEWARE, Config(kind="library")) == [
        ("UNDISCOVERED_MODULE", "module.django.middleware._compat")
    ]
    assert findings(MIDDLEWARE) == [
        ("UNDISCOVERED_MODULE", "module.django.middleware._compat"),
        ("UNDISCOVERED_MODULE", "module.django.middleware.locale"),
        ("UNDISCOVERED_MODULE", "module.django.middleware.security"),
    ]


# django/conf/project_template/project_name/settings.py-tpl (5.2)
SETTINGS_TEMPLATE = """
ROOT_URLCONF = '{{ project_name }}.urls'
MIDDLEWARE = [
    'django.middleware.security.SecurityMiddleware',
    'django.contrib.sessions.middleware.SessionMiddleware',
    'django.middleware.common.CommonMiddleware',
    'django.middleware.csrf.CsrfViewMiddleware',
    'django.contrib.auth.middleware.AuthenticationMiddleware',
    'django.contrib.messages.middleware.MessageMiddleware',
    'django.middleware.clickjacking.XFrameOptionsMiddleware',
]
"""


def test_dotted_paths_in_a_settings_template_are_references():
    files = {**MIDDLEWARE, "django/conf/project_template/project_name/settings.py-tpl": SETTINGS_TEMPLATE}
    assert findings(files) == [
        ("UNDISCOVERED_MODULE", "module.django.middleware._compat"),
        ("UNDISCOVERED_MODULE", "module.django.middleware.locale"),
    ]


# -- a computed import makes loadable only what its argument can name ---------------------

# django/db/utils.py (5.2)
LOAD_BACKEND = '''"""Database utilities."""
def load_backend(backend_name):
    """Return a database backend's "base" module given a fully qualified database backend name."""
    if backend_name == "django.db.backends.postgresql_psycopg2":
        backend_name = "django.db.backends.postgresql"
    return import_module("%s.base" % backend_name)
'''
BACKENDS = {
    "django/__init__.py": "",
    "django/db/__init__.py": '"""Databases."""\nfrom django.db.utils import load_backend\n',
    "django/db/utils.py": LOAD_BACKEND,
    "django/db/backends/__init__.py": "",
    "django/db/backends/sqlite3/__init__.py": "",
    "django/db/backends/sqlite3/base.py": '"""SQLite."""\nfrom .features import DatabaseFeatures\n',
    "django/db/backends/sqlite3/features.py": '"""Features."""\nclass DatabaseFeatures:\n    """What SQLite supports."""\n',
    "django/db/backends/sqlite3/stale.py": '"""Left over."""\nX = 1\n',
}


def test_a_computed_import_loads_only_modules_its_pattern_can_name():
    assert findings(BACKENDS) == [("UNDISCOVERED_MODULE", "module.django.db.backends.sqlite3.stale")]
    relative = {
        **BACKENDS,
        "django/db/utils.py": 'def load_backend(name):\n    return import_module(f".backends.{name}.stale", __package__)\n',
    }
    assert findings(relative) == [("UNDISCOVERED_MODULE", "module.django.db.backends.sqlite3.base")]


def test_a_fully_computed_import_does_not_silence_the_tree():
    files = {**PKG, "pkg/orphan.py": "", "pkg/loader.py": "importlib.import_module(path)\n"}
    assert findings(files) == [
        ("UNDISCOVERED_MODULE", "module.pkg.loader"),
        ("UNDISCOVERED_MODULE", "module.pkg.orphan"),
    ]


# django/utils/formats.py (5.2): locale packages are loaded through their formats module
FORMATS = '''"""Locale formats."""
def iter_format_modules(lang):
    """Find format modules."""
    format_locations = ["django.conf.locale.%s"]
    locales = [to_locale(lang)]
    for location in format_locations:
        for loc in locales:
            try:
                yield import_module("%s.formats" % (location % loc))
            except ImportError:
                pass
'''
LOCALES = {
    "django/__init__.py": "",
    "django/conf/__init__.py": "",
    "django/conf/locale/__init__.py": "LANG_INFO = {}\n",
    "django/conf/locale/en/__init__.py": "",
    "django/conf/locale/en/formats.py": 'DATE_FORMAT = "N j, Y"\n',
    "django/conf/locale/de/__init__.py": "",
    "django/utils/__init__.py": "",
    "django/utils/formats.py": FORMATS,
    "django/__main__.py": "from django.conf.locale import LANG_INFO\nfrom django.utils.formats import iter_format_modules\n",
}


def test_a_package_is_loaded_with_the_module_a_computed_import_loads_from_it():
    assert findings(LOCALES) == [("UNDISCOVERED_MODULE", "module.django.conf.locale.de")]  # de has no formats


# a logging configuration read with logging.config.dictConfig(yaml.safe_load(...))
LOGGING_YAML = """version: 1
formatters:
  json:
    (): app.logfmt.make_json_formatter
handlers:
  console:
    class: logging.StreamHandler
    formatter: json
"""


def test_dotted_paths_in_yaml_and_ini_configuration_are_references():
    files = {
        "app/__init__.py": "",
        "app/__main__.py": "from app import core\n",
        "app/core.py": "",
        "app/logfmt.py": '"""JSON logs."""\ndef make_json_formatter():\n    """A formatter."""\n    return None\n',
    }
    assert findings(files) == [
        ("DEAD_CODE", "symbol.app.logfmt.make_json_formatter"),
        ("UNDISCOVERED_MODULE", "module.app.logfmt"),
    ]
    assert findings({**files, "logging.yaml": LOGGING_YAML}) == []
    ini = "[loggers]\nkeys = root\n[formatter_json]\nclass = app.logfmt.make_json_formatter\n"
    assert findings({**files, "logging.ini": ini}) == []


def test_modules_imported_under_another_root_are_discovered():
    files = {
        "src/kloros/__init__.py": "",
        "src/kloros/bus.py": '"""The bus."""\n',
        "src/kloros/stale.py": '"""Nothing imports it."""\n',
        "src/kloros/__main__.py": "from kloros import bus\n",
        "scripts/replay.py": 'import sys\nsys.path.insert(0, "src")\nimport kloros.bus\n',
    }
    assert findings(files) == [("UNDISCOVERED_MODULE", "module.src.kloros.stale")]


def test_configured_apps_are_found_under_another_root():
    files = {
        "src/site/__init__.py": "",
        "src/site/settings.py": 'INSTALLED_APPS = ["site.blog", "site.shop"]\n',
        "src/site/blog/__init__.py": "",
    }
    assert findings(files) == [("MISSING_CAPABILITY", "module.site.shop")]


def test_a_module_a_script_imports_from_its_own_folder_is_discovered():
    files = {
        "tools/__init__.py": "",
        "tools/__main__.py": "from tools import other\n",
        "tools/other.py": "",
        "tools/helpers.py": '"""Helpers."""\n',
        "tools/stale.py": '"""Nothing imports it."""\n',
        "tools/migrate.py": 'import helpers\n\nif __name__ == "__main__":\n    helpers.run()\n',
    }
    assert findings(files) == [("UNDISCOVERED_MODULE", "module.tools.stale")]


def test_an_apps_management_package_is_found_by_the_framework():
    files = {
        **PKG,
        "pkg/management/__init__.py": "",
        "pkg/management/commands/__init__.py": "",
        "pkg/management/commands/sync.py": "X = 1\n",
    }
    assert findings(files) == []


def test_a_computed_import_of_a_conventional_module_name_loads_modules_of_that_name():
    # homeassistant/loader.py: f"{self.pkg_path}.{platform_name}" with platform names from strings
    loader = 'PRELOAD = ["config_flow"]\ndef load(pkg_path, platform_name):\n    return importlib.import_module(f"{pkg_path}.{platform_name}")\n'
    files = {
        "ha/__init__.py": "",
        "ha/loader.py": loader,
        "ha/__main__.py": "from ha.loader import load\nfrom ha.components.owntracks import const\n",
        "ha/components/__init__.py": "",
        "ha/components/owntracks/__init__.py": "",
        "ha/components/owntracks/const.py": 'DOMAIN = "owntracks"\n',
        "ha/components/owntracks/config_flow.py": "",
        "ha/components/owntracks/stale.py": "",
    }
    assert findings(files) == [("UNDISCOVERED_MODULE", "module.ha.components.owntracks.stale")]


# homeassistant/backports: a package whose modules nothing in the tree imports ("kept for now to
# avoid breaking custom components that might import it"); its modules are not asked about
# (no sibling imported), and neither is the package they make up
BACKPORTS = {
    "homeassistant/__init__.py": "",
    "homeassistant/__main__.py": "from homeassistant import core\n",
    "homeassistant/core.py": "X = 1\n",
    "homeassistant/backports/__init__.py": '"""Backports from newer Python versions."""\n',
    "homeassistant/backports/enum.py": '"""Enum backports from standard lib."""\nfrom enum import StrEnum\n',
}


def test_a_package_none_of_whose_modules_is_imported_is_not_asked_about():
    assert findings(BACKPORTS) == []
    empty = {k: v for k, v in BACKPORTS.items() if k != "homeassistant/backports/enum.py"}
    assert findings(empty) == [("UNDISCOVERED_MODULE", "module.homeassistant.backports")]
