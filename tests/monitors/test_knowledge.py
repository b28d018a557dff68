from monitors.config import Config
from monitors.engine import KeyLookup
from monitors.knowledge import KnowledgeMonitor
from tests.monitors.monitor_helpers import batch, findings

UNDOCUMENTED = "def a():\n    x = 1\n    return x\ndef b():\n    x = 2\n    return x\nclass C:\n    def m(self):\n        x = 3\n        return x\n"
UNUSED = ["C", "C.m", "a", "b"]  # nothing in these snippets calls them


def dead(module: str, names: list[str]) -> list[tuple[str, str]]:
    return [("DEAD_CODE", f"symbol.{module}.{name}") for name in names]


def test_missing_docstrings_above_threshold():
    found = [
        q
        for q in batch({"pkg/mod.py": UNDOCUMENTED}).all_questions().values()
        if q.hypothesis == "MISSING_DOCSTRINGS"
    ]
    assert len(found) == 1 and "pkg/mod.py:1" in found[0].evidence  # the module itself counts
    assert findings({"pkg/mod.py": UNDOCUMENTED}) == [
        *dead("pkg.mod", UNUSED),
        ("MISSING_DOCSTRINGS", "module.pkg.mod"),
    ]


def test_documented_private_and_test_code_is_not_counted():
    documented = '"""Module."""\ndef a():\n    """A."""\ndef _b():\n    pass\nclass _C:\n    def m(self):\n        pass\n'
    assert findings({"mod.py": documented, "tests/test_mod.py": UNDOCUMENTED}) == dead(
        "mod", ["_C", "_C.m", "_b", "a"]
    )


def test_threshold_is_configurable():
    monitor = KnowledgeMonitor(min_undocumented=10)
    store = batch({"mod.py": UNDOCUMENTED})
    lookup = KeyLookup(store, "knowledge", "knowledge:docs:mod.py")
    assert not monitor.evaluate("docs:mod.py", lookup)
    assert KnowledgeMonitor(min_undocumented=2).evaluate("docs:mod.py", lookup)


CODE = {
    "pkg/__init__.py": "",
    "pkg/mod.py": '"""Code the documents below name."""\ndef func():\n    """F."""\nclass K:\n    """K."""\n    def meth(self):\n        """M."""\n',
    "pkg/__main__.py": "from pkg.mod import K, func\nfunc()\nK().meth()\n",
}


def test_stale_knowledge_in_markdown():
    assert findings({**CODE, "README.md": "Call `pkg.mod.gone` first.\n"}) == [
        ("STALE_KNOWLEDGE", "symbol.pkg.mod.gone")
    ]
    assert findings({**CODE, "README.md": "Use `pkg.mod.K.old()`.\n"}) == [
        ("STALE_KNOWLEDGE", "symbol.pkg.mod.K.old")
    ]
    assert findings({**CODE, "README.md": "See `pkg.other`.\n"}) == [("STALE_KNOWLEDGE", "symbol.pkg.other")]


def test_existing_and_foreign_symbols_are_not_stale():
    doc = "`pkg.mod.func` and ``pkg.mod.K.meth()`` and `os.path.join` and `pkg.mod`\n"
    assert findings({**CODE, "README.md": doc}) == []


def test_autodoc_directives_and_roles():
    rst = ".. autofunction:: pkg.mod.func\n.. autoclass:: pkg.mod.Gone\n\nSee :func:`~pkg.mod.vanished`.\n"
    assert findings({**CODE, "docs/api.rst": rst}) == [
        ("STALE_KNOWLEDGE", "symbol.pkg.mod.Gone"),
        ("STALE_KNOWLEDGE", "symbol.pkg.mod.vanished"),
    ]


def test_docstring_roles_are_checked():
    src = 'def f():\n    """Like :func:`pkg.mod.gone`."""\n'
    assert findings({**CODE, "pkg/user.py": src}) == [
        ("DEAD_CODE", "symbol.pkg.user.f"),
        ("STALE_KNOWLEDGE", "symbol.pkg.mod.gone"),
        ("UNDISCOVERED_MODULE", "module.pkg.user"),
    ]


def test_documentation_names_modules_as_they_are_imported_not_by_their_src_path():
    files = {
        "src/kloros/__init__.py": "",
        "src/kloros/bus.py": '"""The bus."""\nclass ChemPub:\n    """Publishes."""\n',
        "src/kloros/__main__.py": "from kloros.bus import ChemPub\n",
        "README.md": "Publish with `kloros.bus.ChemPub`, not `kloros.bus.Publisher`.\n",
    }
    assert findings(files) == [("STALE_KNOWLEDGE", "symbol.kloros.bus.Publisher")]


# -- what MISSING_DOCSTRINGS does not ask for -------------------------------------------

# django/contrib/sessions/backends/base.py and cache.py (5.2), shortened
SESSION_BASE = '''"""Session base."""
class SessionBase:
    """Base class for all Session classes."""

    def create(self):
        """Create a new session instance, saved once with empty data."""
        raise NotImplementedError("subclasses of SessionBase must provide a create() method")

    def load(self):
        """Load the session data and return a dictionary."""
        raise NotImplementedError("subclasses of SessionBase must provide a load() method")

    async def aload(self):
        return await sync_to_async(self.load)()

    async def acreate(self):
        return await sync_to_async(self.create)()
'''
CACHE_STORE = """from django.contrib.sessions.backends.base import CreateError, SessionBase


class SessionStore(SessionBase):
    \"\"\"A cache-based session store.\"\"\"

    def load(self):
        try:
            session_data = self._cache.get(self.cache_key)
        except Exception:
            session_data = None
        if session_data is not None:
            return session_data
        self._session_key = None
        return {}

    async def aload(self):
        try:
            session_data = await self._cache.aget(await self.acache_key())
        except Exception:
            session_data = None
        if session_data is not None:
            return session_data
        self._session_key = None
        return {}

    def create(self):
        for i in range(10000):
            self._session_key = self._get_new_session_key()
            try:
                self.save(must_create=True)
            except CreateError:
                continue
            self.modified = True
            return
        raise RuntimeError("Unable to create a new session key.")

    async def acreate(self):
        for i in range(10000):
            self._session_key = await self._aget_new_session_key()
            try:
                await self.asave(must_create=True)
            except CreateError:
                continue
            self.modified = True
            return
        raise RuntimeError("Unable to create a new session key.")
"""
SESSIONS = {
    "django/__init__.py": "",
    "django/contrib/__init__.py": "",
    "django/contrib/sessions/__init__.py": "",
    "django/contrib/sessions/backends/__init__.py": "",
    "django/contrib/sessions/backends/base.py": SESSION_BASE,
    "django/contrib/sessions/backends/cache.py": CACHE_STORE,
}


def docs_evidence(files, config=None):
    asked = [q for q in batch(files).all_questions().values() if q.hypothesis == "MISSING_DOCSTRINGS"]
    return sorted(e for q in asked for e in q.evidence)


def test_overrides_of_documented_base_methods_need_no_docstring_of_their_own():
    # load and create inherit the base's documentation; aload and acreate have none to inherit
    assert docs_evidence(SESSIONS) == [
        "django/contrib/sessions/backends/cache.py:1",
        "django/contrib/sessions/backends/cache.py:17",
        "django/contrib/sessions/backends/cache.py:38",
    ]


# django/db/backends/dummy/base.py (5.2), whole but for the imports
DUMMY = '''"""Dummy database backend for Django."""
def complain(*args, **kwargs):
    raise ImproperlyConfigured(
        "settings.DATABASES is improperly configured. "
        "Please supply the ENGINE value."
    )


def ignore(*args, **kwargs):
    pass


class DatabaseOperations(BaseDatabaseOperations):
    quote_name = complain


class DatabaseClient(BaseDatabaseClient):
    runshell = complain


class DatabaseCreation(BaseDatabaseCreation):
    create_test_db = ignore
    destroy_test_db = ignore
    serialize_db_to_string = ignore


class DatabaseIntrospection(BaseDatabaseIntrospection):
    get_table_list = complain
    get_table_description = complain
    get_relations = complain
    get_indexes = complain


class DatabaseWrapper(BaseDatabaseWrapper):
    operators = {}
    _cursor = complain
    ensure_connection = complain
    client_class = DatabaseClient
    creation_class = DatabaseCreation
    introspection_class = DatabaseIntrospection
    ops_class = DatabaseOperations

    def is_usable(self):
        return True
'''


def test_one_statement_bodies_need_no_docstring():
    # complain is one raise, ignore a pass, is_usable one return, the classes declare attributes:
    # left is DatabaseWrapper (1), below the threshold of 3
    assert docs_evidence({"dummy/base.py": DUMMY}) == []
    # the classes' own public functions are asked about: two more undocumented helpers reach 3
    helpers = DUMMY + "\n\ndef check(settings):\n    name = settings.get('ENGINE')\n    return name\n"
    helpers += "\n\ndef reset(settings):\n    settings.clear()\n    return settings\n"
    assert docs_evidence({"dummy/base.py": helpers}) == [
        "dummy/base.py:34",
        "dummy/base.py:47",
        "dummy/base.py:52",
    ]


# django/db/models/fields/related_descriptors.py (5.2): a manager class made per relation
MANAGER_FACTORY = '''"""Related descriptors."""
def create_reverse_many_to_one_manager(superclass, rel):
    """Create a manager for the reverse side of a many-to-one relation."""

    class RelatedManager(superclass, AltersData):
        def add(self, *objs, bulk=True):
            self._check_fk_val()
            self._remove_prefetched_objects()
            db = router.db_for_write(self.model, instance=self.instance)

        def create(self, **kwargs):
            self._check_fk_val()
            self._remove_prefetched_objects()
            kwargs[self.field.name] = self.instance
            db = router.db_for_write(self.model, instance=self.instance)
            return super(RelatedManager, self.db_manager(db)).create(**kwargs)

        def get_or_create(self, **kwargs):
            self._check_fk_val()
            kwargs[self.field.name] = self.instance
            db = router.db_for_write(self.model, instance=self.instance)
            return super(RelatedManager, self.db_manager(db)).get_or_create(**kwargs)

    return RelatedManager
'''


def test_classes_nested_in_functions_are_not_asked_for_docstrings():
    assert docs_evidence({"related_descriptors.py": MANAGER_FACTORY}) == []


# -- generated files ---------------------------------------------------------------------

GRPC = '''# Generated by the gRPC Python protocol compiler plugin. DO NOT EDIT!
"""Client and server classes corresponding to protobuf-defined services."""
import grpc


class GreeterServicer(object):
    def SayHello(self, request, context):
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details("Method not implemented!")
        raise NotImplementedError("Method not implemented!")

    def SayHelloAgain(self, request, context):
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details("Method not implemented!")
        raise NotImplementedError("Method not implemented!")


def add_GreeterServicer_to_server(servicer, server):
    rpc_method_handlers = {"SayHello": grpc.unary_unary_rpc_method_handler(servicer.SayHello)}
    generic_handler = grpc.method_handlers_generic_handler("helloworld.Greeter", rpc_method_handlers)
    server.add_generic_rpc_handlers((generic_handler,))
'''
GENERATED = {"api/v1/greeter_pb2_grpc.py": GRPC, "api/v2/greeter_pb2_grpc.py": GRPC}
USES = {
    "serve.py": "from api.v1.greeter_pb2_grpc import add_GreeterServicer_to_server\nfrom api.v2 import greeter_pb2_grpc\n"
}


def test_generated_files_are_asked_neither_docstrings_nor_duplicates():
    hand_written = {path: source.split("\n", 1)[1] for path, source in GENERATED.items()}
    unused = [  # DEAD_CODE is not about who wrote the code: generated or not, nothing calls these
        ("DEAD_CODE", f"symbol.api.{v}.greeter_pb2_grpc.GreeterServicer{m}")
        for v in ("v1", "v2")
        for m in ("", ".SayHelloAgain")
    ]
    assert findings({**hand_written, **USES}) == [
        *unused,
        ("DUPLICATE_RESPONSIBILITY", "module.api.v1.greeter_pb2_grpc"),
        ("MISSING_DOCSTRINGS", "module.api.v1.greeter_pb2_grpc"),
        ("MISSING_DOCSTRINGS", "module.api.v2.greeter_pb2_grpc"),
    ]
    assert findings({**GENERATED, **USES}) == unused
    assert findings({**hand_written, **USES}, Config(generated=("*_pb2_grpc.py",))) == unused


def test_an_override_of_a_base_imported_through_its_package_is_documented_there():
    # django/core/management/__init__.py re-exports BaseCommand; commands import it from there
    base = '"""Base."""\nclass BaseCommand:\n    """A command."""\n\n    def add_arguments(self, parser):\n        """Entry point for subclassed commands to add custom arguments."""\n\n    def handle(self, *args, **options):\n        """The actual logic of the command."""\n        raise NotImplementedError\n'
    command = 'from django.core.management import BaseCommand\n\n\nclass Command(BaseCommand):\n    help = "Deletes stale content types in the database."\n\n    def add_arguments(self, parser):\n        parser.add_argument("--noinput", action="store_false", dest="interactive")\n        parser.add_argument("--database", default="default")\n\n    def handle(self, **options):\n        db = options["database"]\n        return db\n'
    files = {
        "django/__init__.py": "",
        "django/core/__init__.py": "",
        "django/core/management/__init__.py": "from django.core.management.base import BaseCommand, CommandError\n",
        "django/core/management/base.py": base,
        "django/core/management/commands/__init__.py": "",
        "django/core/management/commands/remove_stale.py": command,
    }
    assert docs_evidence(files) == []


# django/contrib/postgres/lookups.py (5.2): classes that only declare what a framework reads
LOOKUPS = '''"""Lookups."""
from django.db.models import Transform
from django.db.models.lookups import PostgresOperatorLookup


class DataContains(PostgresOperatorLookup):
    lookup_name = "contains"
    postgres_operator = "@>"


class ContainedBy(PostgresOperatorLookup):
    lookup_name = "contained_by"
    postgres_operator = "<@"


class Overlap(PostgresOperatorLookup):
    lookup_name = "overlap"
    postgres_operator = "&&"
'''

# this project at round 1: kloros_site/chembus/command.py, a Django management command
COMMAND = '''"""ChemBus command."""
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "ChemBus: listen to or publish on the bus, or run the ZeroMQ proxy/bridge."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listen = sub.add_parser("listen")
        listen.add_argument("pattern")

    def handle(self, *args: Any, **opts: Any) -> None:
        action = opts["action"]
        getattr(self, action)(**opts)

    def listen(self, pattern: str, **opts: Any) -> None:
        for envelope in ChemSub(pattern):
            self.stdout.write(json.dumps(envelope))
'''


def test_declarative_classes_and_overrides_of_framework_bases_need_no_docstring():
    assert docs_evidence({"lookups.py": LOOKUPS}) == []
    # add_arguments and handle override Django's documented hooks; listen is the command's own
    assert docs_evidence({"command.py": COMMAND}) == []


# django/utils/deprecation.py and django/middleware/security.py (5.2), trimmed: the mixin calls
# process_request/process_response by name when a subclass defines them
MIDDLEWARE_MIXIN = '''"""Deprecation helpers."""
class MiddlewareMixin:
    """Adapts an old-style middleware to the new-style calling convention."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = None
        if hasattr(self, "process_request"):
            response = self.process_request(request)
        response = response or self.get_response(request)
        if hasattr(self, "process_response"):
            response = self.process_response(request, response)
        return response
'''
SECURITY = """from django.utils.deprecation import MiddlewareMixin


class SecurityMiddleware(MiddlewareMixin):
    def __init__(self, get_response):
        super().__init__(get_response)
        self.redirect = settings.SECURE_SSL_REDIRECT
        self.redirect_exempt = [re.compile(r) for r in settings.SECURE_REDIRECT_EXEMPT]

    def process_request(self, request):
        path = request.path.lstrip("/")
        if self.redirect and not request.is_secure():
            host = self.redirect_host or request.get_host()
            return HttpResponsePermanentRedirect("https://%s%s" % (host, request.get_full_path()))

    def process_response(self, request, response):
        if self.sts_seconds and request.is_secure():
            response.headers["Strict-Transport-Security"] = "max-age=%s" % self.sts_seconds
        return response
"""


def test_hooks_a_base_calls_by_name_and_classes_of_them_need_no_docstring():
    files = {
        "django/utils/deprecation.py": MIDDLEWARE_MIXIN,
        "django/middleware/security.py": SECURITY,
    }
    # process_request/process_response are the mixin's protocol; the class only fills it in
    assert docs_evidence(files) == []
    # a base that does not look them up by name: the methods (and so the class) are its own
    files["django/utils/deprecation.py"] = MIDDLEWARE_MIXIN.replace(
        'hasattr(self, "process_', 'hasattr(other, "process_'
    )
    assert docs_evidence(files) == [
        "django/middleware/security.py:1",
        "django/middleware/security.py:10",
        "django/middleware/security.py:16",
        "django/middleware/security.py:4",
    ]


# django/contrib/gis/gdal/field.py (5.2), trimmed: the OFT* classes only override Field.value
# (documented in Field) for their OGR type
GDAL_FIELD = '''from gis.gdal.base import GDALBase


class Field(GDALBase):
    """Wrap an OGR Field."""

    def as_int(self, is_64=False):
        """Retrieve the Field's value as an integer."""
        if is_64:
            return capi.get_field_as_integer64(self._feat.ptr, self._index)
        return capi.get_field_as_integer(self._feat.ptr, self._index)

    @property
    def value(self):
        "Return the value of this Field."
        # Default is to get the field as a string.
        return self.as_string()


class OFTInteger(Field):
    _bit64 = False

    @property
    def value(self):
        return self.as_int(self._bit64)


class OFTDate(Field):
    @property
    def value(self):
        try:
            yy, mm, dd, hh, mn, ss, tz = self.as_datetime()
            return date(yy.value, mm.value, dd.value)
        except (TypeError, ValueError, GDALException):
            return None


class OFTDateTime(Field):
    @property
    def value(self):
        try:
            yy, mm, dd, hh, mn, ss, tz = self.as_datetime()
            return datetime(yy.value, mm.value, dd.value, hh.value, mn.value, ss.value)
        except (TypeError, ValueError, GDALException):
            return None
'''


def test_classes_that_only_override_their_bases_need_no_docstring():
    base = {"gis/gdal/base.py": '"""GDAL objects."""\nclass GDALBase:\n    """Base for GDAL objects."""\n'}
    # left: the module only
    assert docs_evidence({**base, "gis/gdal/field.py": GDAL_FIELD}) == []
    # a public method of their own makes them classes of their own
    own = GDAL_FIELD.replace(
        "class OFTDateTime(Field):\n",
        "class OFTDateTime(Field):\n    def tz(self):\n        x = self.as_datetime()\n        return x[-1]\n\n",
    )
    assert docs_evidence({**base, "gis/gdal/field.py": own}) == [
        "gis/gdal/field.py:1",
        "gis/gdal/field.py:38",
        "gis/gdal/field.py:39",
    ]


def test_placeholder_names_in_explanations_are_examples():
    # docs/CONFIGURATION.md (this project): a module named to explain how folders map to modules
    tree = {**CODE, "tests/__init__.py": "", "tests/test_mod.py": "from pkg.mod import func\nfunc()\n"}
    doc = "A folder outside the tree is read under its own name (`../tests/test_a.py` is module `tests.test_a`).\n"
    assert findings({**tree, "docs/CONFIGURATION.md": doc}) == []
    assert findings({**tree, "docs/CONFIGURATION.md": "See `pkg.foo` and `pkg.mod.K.x`.\n"}) == []
    # a real name that is gone still is a question
    assert findings({**tree, "docs/CONFIGURATION.md": "See `tests.test_gone`.\n"}) == [
        ("STALE_KNOWLEDGE", "symbol.tests.test_gone")
    ]


# django/core/handlers/{base,wsgi}.py and django/contrib/staticfiles/handlers.py (5.2), trimmed:
# the mixin's get_response overrides BaseHandler's in StaticFilesHandler
HANDLERS = {
    "django/core/handlers/base.py": '''"""Base handler."""
class BaseHandler:
    """Loads middleware and turns requests into responses."""

    def get_response(self, request):
        """Return an HttpResponse object for the given HttpRequest."""
        set_urlconf(settings.ROOT_URLCONF)
        response = self._middleware_chain(request)
        return response
''',
    "django/core/handlers/wsgi.py": '''"""WSGI handler."""
from django.core.handlers import base


class WSGIHandler(base.BaseHandler):
    """The WSGI application."""
''',
    "django/contrib/staticfiles/handlers.py": """from django.core.handlers.wsgi import WSGIHandler


class StaticFilesHandlerMixin:
    \"\"\"Common methods used by WSGI and ASGI handlers.\"\"\"

    def get_base_url(self):
        utils.check_settings()
        return settings.STATIC_URL

    def get_response(self, request):
        try:
            return self.serve(request)
        except Http404 as e:
            return response_for_exception(request, e)


class StaticFilesHandler(StaticFilesHandlerMixin, WSGIHandler):
    \"\"\"WSGI middleware that intercepts calls to the static files directory.\"\"\"
""",
}


def test_a_mixin_method_overriding_its_partner_base_is_documented_there():
    assert docs_evidence(HANDLERS) == []  # module and get_base_url left
    alone = {**HANDLERS}
    alone["django/contrib/staticfiles/handlers.py"] = alone["django/contrib/staticfiles/handlers.py"].replace(
        "StaticFilesHandlerMixin, WSGIHandler", "StaticFilesHandlerMixin"
    )
    assert docs_evidence(alone) == [
        "django/contrib/staticfiles/handlers.py:1",
        "django/contrib/staticfiles/handlers.py:11",
        "django/contrib/staticfiles/handlers.py:7",
    ]


# django/core/management/commands/squashmigrations.py (5.2), trimmed: `help` is the command's
# documentation (manage.py help squashmigrations)
SQUASH = """from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Squashes an existing set of migrations (from first until specified) into a single "
        "new one."
    )

    def handle(self, **options):
        self.verbosity = options["verbosity"]
        app_label = options["app_label"]
        migration = self.find_migration(loader, app_label, options["migration_name"])
        return migration

    def find_migration(self, loader, app_label, name):
        try:
            return loader.get_migration_by_prefix(app_label, name)
        except KeyError:
            raise CommandError("Cannot find a migration matching '%s'." % name)
"""


def test_a_command_is_documented_by_its_help():
    base = '''"""Commands."""
class BaseCommand:
    """A command."""

    help = ""

    def handle(self, *args, **options):
        """The actual logic of the command. Subclasses must implement this method."""
        raise NotImplementedError("subclasses of BaseCommand must provide a handle() method")
'''
    files = {"django/core/management/base.py": base, "squash.py": SQUASH}
    assert docs_evidence(files) == []  # module and find_migration left
    files["squash.py"] = SQUASH.replace("    help = (", "    text = (")
    assert docs_evidence(files) == ["squash.py:1", "squash.py:16", "squash.py:4"]


# django/core/files/utils.py (5.2), trimmed: the proxy forwards the io methods to its file
FILE_PROXY = '''import os


def validate_file_name(name, allow_relative_path=False):
    if os.path.basename(name) in {"", ".", ".."}:
        raise SuspiciousFileOperation("Could not derive file name from '%s'" % name)
    return name


class FileProxyMixin:
    """A mixin class used to forward file methods to an underlying file object."""

    def readable(self):
        if self.closed:
            return False
        if hasattr(self.file, "readable"):
            return self.file.readable()
        return True

    def seekable(self):
        if self.closed:
            return False
        if hasattr(self.file, "seekable"):
            return self.file.seekable()
        return True
'''


def test_a_method_forwarding_to_the_object_it_holds_is_documented_there():
    assert docs_evidence({"files/utils.py": FILE_PROXY}) == []  # module and validate_file_name left
    # calling it without returning its result is no forward
    kept = FILE_PROXY.replace("return self.file.seekable()", "self.file.seekable()")
    assert docs_evidence({"files/utils.py": kept}) == [
        "files/utils.py:1",
        "files/utils.py:20",
        "files/utils.py:4",
    ]


# django/db/models/__init__.py and django/contrib/gis/db/models/aggregates.py (5.2), trimmed:
# Aggregate reaches GeoAggregate's subclasses through `from django.db.models.aggregates import *`
STAR = {
    "django/__init__.py": "",
    "django/db/__init__.py": "",
    "django/db/models/__init__.py": '"""Models."""\nfrom django.db.models.aggregates import *  # NOQA\n',
    "django/db/models/aggregates.py": '''"""Aggregates."""
class Aggregate:
    """An aggregate function."""

    def convert_value(self, value, expression, connection):
        """Convert the database value."""
        return value
''',
    "django/contrib/gis/aggregates.py": """from django.db.models import Aggregate


class GeoAggregate(Aggregate):
    function = None

    def as_sql(self, compiler, connection, function=None, **extra_context):
        connection.ops.check_expression_support(self)
        return super().as_sql(compiler, connection, function=function, **extra_context)


class Extent(GeoAggregate):
    name = "Extent"

    def convert_value(self, value, expression, connection):
        result = connection.ops.convert_extent(value)
        return result


class Extent3D(GeoAggregate):
    name = "Extent3D"

    def convert_value(self, value, expression, connection):
        result = connection.ops.convert_extent3d(value)
        return result
""",
}


def test_a_base_found_through_a_star_import_tells_what_its_subclasses_override():
    assert docs_evidence(STAR) == []  # the module and GeoAggregate left
    # without the star import the base is unknown: Extent and Extent3D may add to it
    unknown = {**STAR, "django/db/models/__init__.py": '"""Models."""\n'}
    assert docs_evidence(unknown) == [
        "django/contrib/gis/aggregates.py:1",
        "django/contrib/gis/aggregates.py:12",
        "django/contrib/gis/aggregates.py:20",
        "django/contrib/gis/aggregates.py:4",
    ]


# monitors/visitor.py and monitors/collector.py (this project), trimmed: the Visitor dispatches
# to visit_<node type> by a name it builds
VISITOR = '''"""The walk."""
class Visitor:
    """Calls visit_<node type> for each node."""

    def visit(self, node):
        """Dispatch one node."""
        handler = getattr(self, "visit_" + node.__class__.__name__, self.generic_visit)
        handler(node)
'''
COLLECTOR = """from visitor import Visitor


class FactCollector(Visitor):
    def visit_Call(self, node):
        callee = callee_name(node.func)
        self.calls.append(callee)
        self.generic_visit(node)

    def visit_Name(self, node):
        self.names.add(node.id)
        self.generic_visit(node)
"""


def test_handlers_a_base_calls_by_a_built_name_need_no_docstring():
    assert docs_evidence({"visitor.py": VISITOR, "collector.py": COLLECTOR}) == []
    plain = VISITOR.replace('"visit_" + node.__class__.__name__', "node.__class__.__name__")
    assert docs_evidence({"visitor.py": plain, "collector.py": COLLECTOR}) == [
        "collector.py:1",
        "collector.py:10",
        "collector.py:4",
        "collector.py:5",
    ]


# pretix/helpers/config.py (2026.8), trimmed: each method answers from the environment first and
# forwards to the parser only when it has nothing: it computes results of its own, no forward
ENV_OR_PARSER = """import os


class EnvOrParserConfig:
    def __init__(self, configparser):
        self.cp = configparser

    def get(self, section, option, *, raw=False, vars=None, fallback=None):
        if self._envkey(section, option) in os.environ:
            return os.environ[self._envkey(section, option)]
        return self.cp.get(section, option, raw=raw, vars=vars, fallback=fallback)

    def getint(self, section, option, *, raw=False, vars=None, fallback=None):
        if self._envkey(section, option) in os.environ:
            return int(os.environ[self._envkey(section, option)])
        return self.cp.getint(section, option, raw=raw, vars=vars, fallback=fallback)
"""


def test_a_method_with_results_of_its_own_besides_the_forward_is_no_forward():
    assert docs_evidence({"helpers/config.py": ENV_OR_PARSER}) == [
        "helpers/config.py:1",
        "helpers/config.py:13",
        "helpers/config.py:4",
        "helpers/config.py:8",
    ]
