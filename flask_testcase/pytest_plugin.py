"""flask_testcase's pytest plugin: the pytest front door to the same test environment
as :class:`~flask_testcase.TestCase` (:mod:`flask_testcase._environment`), with
pytest-flask's fixtures and options, plus ``runner``, ``templates``,
``flashed_messages``, ``outbox``, an isolated ``db``, class- and module-wide data
fixtures (:func:`data_fixture`) and ``assertNumQueries``; and pytest-flask-sqlalchemy's
``_db``, ``db_session`` and ``db_engine`` on the same isolation.

Installed with the package and loaded by pytest through its ``pytest11`` entry point.
A test that uses none of its fixtures is left alone: the environment is built only
for a test that asks for ``app`` (directly or through another fixture).

The user provides the app, as with pytest-flask, as an ``app`` fixture of any scope
in ``conftest.py``, or names a factory (or an app object) once in the ini file::

    [pytest]
    flask_app = myapp:create_app

The ``db`` fixture isolates the app's Flask-SQLAlchemy or Flask-SQLAlchemy-Lite
(``app.extensions["sqlalchemy"]``), or what the ini file names once (a
:class:`~flask_testcase.SQLAlchemyDatabase` for plain SQLAlchemy)::

    [pytest]
    flask_db = myapp.database:test_db

For each test that uses ``app``, one autouse fixture builds the test's environment in
the order the lifecycle chapter gives (config, client class, contexts, client,
records, database, mail, live server) and undoes it afterwards; the other fixtures
hand out what it built. A test that uses ``db`` is isolated before any other fixture
of its own scope runs, whatever the order of its arguments.

With pytest-flask also active, pytest-flask keeps the names it defines (``client``,
``client_class``, ``config``, ``live_server``, ``mimetype``, the ``accept_*``
fixtures, the ``options`` marker and its command line options) and this plugin serves
the rest; the report header says which is which. With pytest-flask-sqlalchemy
installed, it keeps its own names (``_db``, ``db_session``, ``db_engine`` and its ini
options).
"""

from __future__ import annotations

import importlib
import inspect
import os
import typing as t

import flask
import pytest

from ._environment import DatabaseSettings
from ._environment import Settings
from ._environment import SharedData
from ._environment import TestEnvironment
from ._environment import guard_connections
from ._environment import open_environment
from .live_server import LiveServer

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator

    from flask.testing import FlaskCliRunner

    from .capture import FlashedMessage
    from .capture import RenderedTemplate
    from .webtest import TestApp

__all__ = ["LiveServer", "TestMigrations", "data_fixture"]

_F = t.TypeVar("_F", bound=t.Callable[..., t.Any])

#: The module registered when pytest-flask is not active: the names it would define.
_PYTEST_FLASK_NAMES = "flask_testcase._pytest_flask"
#: What the names module serves, for the report header.
_THEIR_NAMES = (
    "client, client_class, config, live_server, mimetype, accept_any, accept_json,"
    " accept_jsonp, accept_mimetype, the options marker"
)
_OUR_NAMES = (
    "app (ini flask_app), runner, templates, flashed_messages, outbox, tasks, testapp,"
    " db (ini flask_db), assertNumQueries, data_fixture"
)


# -- options ---------------------------------------------------------------------------


def _pytest_flask_active(pluginmanager: pytest.PytestPluginManager) -> bool:
    return pluginmanager.has_plugin("flask") or pluginmanager.has_plugin("pytest_flask.plugin")


def _pytest_flask_loads(pluginmanager: pytest.PytestPluginManager) -> bool:
    """Whether pytest-flask is (or is about to be) loaded: registered already, or
    installed, not disabled with ``-p no:flask``, and plugins load automatically."""
    import importlib.util
    import os

    if _pytest_flask_active(pluginmanager):
        return True
    return (
        not pluginmanager.is_blocked("flask")
        and not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
        and importlib.util.find_spec("pytest_flask") is not None
    )


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    parser.addini(
        "flask_app",
        "the app for the 'app' fixture when conftest.py defines none:"
        " 'module:factory' (called with no arguments) or 'module:app'.",
        default="",
    )
    parser.addini(
        "schema_from",
        "how the test schema is made, once per database per run: models (create_all of"
        " the models, the default), migrations (the app's migrations) or none.",
        default="models",
    )
    parser.addini(
        "migrations_directory",
        "the migrations directory for schema_from = migrations and TestMigrations"
        " (default: Flask-Migrate's, migrations).",
        default="",
    )
    parser.addini(
        "schema_hook",
        "'module:function' called with no arguments once the schema of the run's"
        " databases is built (reference rows every test sees).",
        default="",
    )
    parser.addini(
        "flask_db",
        "the database the 'db' fixture isolates, when it is not the app's"
        " app.extensions['sqlalchemy']: 'module:name' naming a Flask-SQLAlchemy or"
        " Flask-SQLAlchemy-Lite instance or a flask_testcase.SQLAlchemyDatabase.",
        default="",
    )
    parser.addini(
        "flask_strict_database",
        "strict mode: a test that did not ask for a database (the db fixture, or the"
        " strict_database(False) marker) may not connect to one.",
        type="bool",
        default=False,
    )
    from . import _pytest_flask_sqlalchemy as pfs

    if not pfs.loads(pluginmanager) and not pluginmanager.has_plugin(pfs.NAME):
        # Registered now, before any conftest is read: a conftest's
        # pytest_plugins = ["pytest-flask-sqlalchemy"] finds it under that name.
        pluginmanager.register(pfs, pfs.NAME)
    if _pytest_flask_loads(pluginmanager):
        # pytest-flask adds the same options; it keeps them.
        return
    from ._pytest_flask import add_options

    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    pm = config.pluginmanager
    if not _pytest_flask_active(pm) and not pm.has_plugin(_PYTEST_FLASK_NAMES):
        pm.register(importlib.import_module(_PYTEST_FLASK_NAMES), _PYTEST_FLASK_NAMES)
    config.addinivalue_line(
        "markers",
        "reset_sequences: primary keys start from 1 again in this test (see the docs)",
    )
    config.addinivalue_line(
        "markers",
        "real_commits: the test (a module or class: its tests and data fixtures) commits"
        " for real; the tables written are emptied afterwards (see the docs)",
    )
    config.addinivalue_line(
        "markers",
        "strict_database(on=True): a test that did not ask for a database (the db"
        " fixture) may not connect to one; strict_database(False) lets it",
    )
    config.addinivalue_line(
        "markers",
        "allow_any_database: the test may use databases whose names do not mark them"
        " as test databases",
    )


#: The run's databases when this pytest run began (an outer run's, for a pytester run).
_KNOWN_DATABASES = pytest.StashKey["set[t.Any]"]()


def pytest_sessionstart(session: pytest.Session) -> None:
    import sys

    registry = sys.modules.get("flask_testcase.isolation._registry")
    session.config.stash[_KNOWN_DATABASES] = set(registry.databases) if registry else set()


def pytest_unconfigure(config: pytest.Config) -> None:
    # The engines this run made serve no later run: a database dropped and made again
    # by the next run in this process (pytester's in-process runs with their own
    # session fixtures) would meet connections its server closed.
    import sys

    registry = sys.modules.get("flask_testcase.isolation._registry")
    if registry is not None and _KNOWN_DATABASES in config.stash:
        registry.close_all(keep=config.stash[_KNOWN_DATABASES])


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    if not _pytest_flask_active(config.pluginmanager):
        return None
    return [
        f"flask_testcase: pytest-flask is active and serves {_THEIR_NAMES};"
        f" flask_testcase serves {_OUR_NAMES}. Uninstall pytest-flask to have"
        " flask_testcase serve them all.",
    ]


# -- the app -------------------------------------------------------------------------


@pytest.fixture
def app(pytestconfig: pytest.Config) -> flask.Flask:
    """The app under test, from the ``flask_app`` ini setting (a new one for each test
    when it names a factory). A conftest.py ``app`` fixture replaces this one."""
    target = _load(pytestconfig, "flask_app")
    if target is None:
        raise pytest.UsageError(
            "No Flask app: flask_testcase's fixtures need one. Define an 'app' fixture in"
            " conftest.py that returns your app (e.g. 'return create_app(\"testing\")'),"
            " or name your app factory once in the ini file: flask_app ="
            " 'yourpackage:create_app'."
        )
    value: flask.Flask = (
        target() if callable(target) and not isinstance(target, flask.Flask) else target
    )
    return value


def _load(config: pytest.Config, setting: str) -> t.Any:
    """The object the ini ``setting`` names (``'module:attribute'``), or None when unset."""
    spec = str(config.getini(setting) or "").strip()
    if not spec:
        return None
    module_name, _, attribute = spec.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute or "app")
    except (ImportError, AttributeError) as e:
        example = "'package.module:create_app' or 'package.module:app'"
        if setting == "flask_db":
            example = "'package.module:db'"
        raise pytest.UsageError(
            f"{setting} = {spec!r} in the ini file cannot be loaded ({e}); write it as {example}."
        ) from e


def _checked_app(request: pytest.FixtureRequest) -> flask.Flask:
    value = request.getfixturevalue("app")
    if not isinstance(value, flask.Flask):
        hint = " Did the fixture forget to return it?" if value is None else ""
        raise TypeError(
            f"the 'app' fixture must return a flask.Flask instance, got {value!r}"
            f" ({type(value).__name__}).{hint}"
        )
    return value


# -- the environment -------------------------------------------------------------------

#: Set by the plugin's own ``db`` fixture: the test's database, for the environment.
_DATABASE = pytest.StashKey[DatabaseSettings]()


def _serves_pytest_flask_names(config: pytest.Config) -> bool:
    return config.pluginmanager.has_plugin(_PYTEST_FLASK_NAMES)


@pytest.fixture(autouse=True)
def _flask_testcase(request: pytest.FixtureRequest) -> Iterator[TestEnvironment | None]:
    """For a test that uses ``app`` (or ``live_server``, which serves it): the test's
    environment, built in the one order both front doors share."""
    names = request.fixturenames
    # The guard first, before the app (or anything else of the test's) is made.
    with guard_connections(_guard_settings(request)):
        yield from _test_environment(request, names)


def _guard_settings(request: pytest.FixtureRequest) -> Settings:
    node = request.node
    names = request.fixturenames
    strict_marker = node.get_closest_marker("strict_database")
    if strict_marker is not None:
        strict = bool(strict_marker.args[0]) if strict_marker.args else True
    else:
        strict = bool(request.config.getini("flask_strict_database"))
    asked = "db" in names or "_db" in names
    return Settings(
        owner=node.nodeid,
        allow_any_database=node.get_closest_marker("allow_any_database") is not None,
        guard_opt_in="mark the test @pytest.mark.allow_any_database",
        refuse_connections=strict and not asked,
        ask_for_database=(
            "use the db fixture (the app's database, isolated), or mark the test"
            " @pytest.mark.strict_database(False)"
        ),
        include_database=(
            "give every stack the app uses to a db fixture of your own, as a tuple"
            " (return (db, SQLAlchemyDatabase(engine, Base.metadata)))"
        ),
    )


def _test_environment(
    request: pytest.FixtureRequest, names: list[str]
) -> Iterator[TestEnvironment | None]:
    if "app" not in names and "live_server" not in names:
        yield None
        return
    app = _checked_app(request)
    node = request.node
    if "db" in names:
        # Before any other fixture of the test: whatever they write runs inside the
        # test's isolation. A db fixture of the user's own runs here too, and then
        # the environment isolates nothing itself.
        request.getfixturevalue("db")
    elif "_db" in names and request.config.pluginmanager.has_plugin(_PFS_NAMES):
        # pytest-flask-sqlalchemy's users: the database their _db fixture returns.
        node.stash[_DATABASE] = _database_settings(
            request.getfixturevalue("_db"),
            request,
            label="the _db fixture",
            reset_sequences=node.get_closest_marker("reset_sequences") is not None,
            real_commits=_real_commits(node),
        )
    ours = _serves_pytest_flask_names(request.config)
    config: list[dict[str, t.Any]] = []
    live_server = None
    if ours:
        from ._pytest_flask import comparing

        # pytest-flask's order: the marker nearest the test first.
        for marker in node.iter_markers("options"):
            config.append({key.upper(): value for key, value in marker.kwargs.items()})
        if "live_server" in names:
            server: LiveServer = request.getfixturevalue("live_server")
            config.append(server._config(app))
            start = bool(request.config.getoption("start_live_server", True))

            def live_server(
                app: flask.Flask, owner: str, serialize: bool
            ) -> t.ContextManager[None]:
                # A db fixture of the user's own isolates the test itself.
                theirs = "db" in names and node.stash.get(_DATABASE, None) is None
                return server._serving(app, owner, serialize or theirs, start)

    settings = Settings(
        owner=node.nodeid,
        config=config,
        response_class=comparing if ours else None,
        client_keeps_contexts=True,
        database=node.stash.get(_DATABASE, None),
        live_server=live_server,
    )
    env = open_environment(app, settings)
    try:
        yield env
    finally:
        env.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """With pytest-flask active, its ``client`` (made after the environment) is the
    test's client for :mod:`flask_testcase.asserts`."""
    funcargs = getattr(item, "funcargs", {})
    if "client" not in funcargs or _serves_pytest_flask_names(item.config):
        yield
        return
    from . import _current

    if not _current.recording():
        yield
        return
    undo = _current.push_more(client=funcargs["client"])
    try:
        yield
    finally:
        undo()


def _environment(request: pytest.FixtureRequest) -> TestEnvironment:
    env: TestEnvironment = request.getfixturevalue("_flask_testcase")
    return env


@pytest.fixture
def testapp(app: flask.Flask) -> TestApp:
    """A :class:`flask_testcase.webtest.TestApp` (WebTest, with per-response records)
    of the app, inside the test's records and database isolation like ``client``.
    Needs WebTest (``pip install 'flask-testcase[webtest]'``)."""
    from .webtest import TestApp

    return TestApp(app)


@pytest.fixture
def runner(request: pytest.FixtureRequest, app: flask.Flask) -> FlaskCliRunner:
    """``app.test_cli_runner()``, for invoking CLI commands."""
    return _environment(request).runner


@pytest.fixture
def templates(request: pytest.FixtureRequest, app: flask.Flask) -> list[RenderedTemplate]:
    """Every template the app renders during the test, in order."""
    return _environment(request).templates


@pytest.fixture
def flashed_messages(request: pytest.FixtureRequest, app: flask.Flask) -> list[FlashedMessage]:
    """Every message the app flashes during the test, in order."""
    return _environment(request).flashed_messages


@pytest.fixture
def tasks(request: pytest.FixtureRequest, app: flask.Flask) -> list[t.Any]:
    """Every Celery task and RQ job enqueued during the test, in order, as
    :class:`~flask_testcase.EnqueuedTask` records (for an app that imports Celery or
    RQ); check them with :func:`~flask_testcase.assert_task_enqueued`."""
    found = _environment(request).tasks
    if found is None:
        raise RuntimeError(
            "the tasks fixture records the tasks of an app that uses Celery or RQ, and"
            " neither was imported when the test began: import the app's tasks module"
            " (or celery, rq) at the top of the test module."
        )
    return found


@pytest.fixture
def outbox(request: pytest.FixtureRequest, app: flask.Flask) -> list[t.Any]:
    """Every email the app sent during the test, in order, as
    :class:`~flask_testcase.SentEmail` records; none leaves the machine."""
    sent = _environment(request).outbox
    if sent is None:
        from .mail import require_mail

        # Raises NoMailExtensionError, which says what to set up.
        require_mail(app)
        raise AssertionError("unreachable: require_mail() accepted an app without mail")
    return sent


# -- the database ----------------------------------------------------------------------


_SCHEMA = pytest.StashKey[dict[str, t.Any]]()


def _schema_options(config: pytest.Config) -> dict[str, t.Any]:
    """``schema_from``, ``migrations_directory`` and ``schema_hook`` from the ini file,
    as keywords of :class:`~flask_testcase.DatabaseIsolation`."""
    if _SCHEMA in config.stash:
        return config.stash[_SCHEMA]
    schema_from = str(config.getini("schema_from") or "models").strip()
    if schema_from.lower() not in {"models", "migrations", "none"}:
        raise pytest.UsageError(
            f"schema_from = {schema_from!r} in the ini file: use models (create_all of the"
            " models), migrations (the app's migrations) or none"
        )
    directory = str(config.getini("migrations_directory") or "").strip() or None
    if directory is not None and not os.path.isabs(directory):
        # Relative to the ini file, like pytest's own paths.
        directory = os.path.join(str(config.rootpath), directory)
    options = {
        "schema_from": None if schema_from.lower() == "none" else schema_from.lower(),
        "migrations_directory": directory,
        "schema_hook": _schema_hook(str(config.getini("schema_hook") or "").strip()),
    }
    config.stash[_SCHEMA] = options
    return options


def _schema_hook(spec: str) -> Callable[[], object] | None:
    if not spec:
        return None
    module_name, _, path = spec.partition(":")
    if not path:
        raise pytest.UsageError(
            f"schema_hook = {spec!r} in the ini file is not a function; write it as"
            " 'package.module:function'."
        )
    try:
        target: t.Any = importlib.import_module(module_name)
        for name in path.split("."):
            target = getattr(target, name)
    except (ImportError, AttributeError, ValueError) as e:
        raise pytest.UsageError(
            f"schema_hook = {spec!r} in the ini file cannot be loaded ({e}); write it as"
            " 'package.module:function' (or 'package.module:Class.method')."
        ) from e
    if not callable(target):
        raise pytest.UsageError(
            f"schema_hook = {spec!r} in the ini file is not a function; write it as"
            " 'package.module:function'."
        )
    return t.cast("Callable[[], object]", target)


#: The names module of pytest-flask-sqlalchemy's users (registered under its name).
_PFS_NAMES = "pytest-flask-sqlalchemy"


def _app_db(request: pytest.FixtureRequest, app: flask.Flask, asked_by: str) -> t.Any:
    named = _load(request.config, "flask_db")
    if named is not None:
        return named
    db = app.extensions.get("sqlalchemy")
    if db is None:
        raise pytest.UsageError(
            f"'{asked_by}' needs the app's database, and the app {app.name!r} has no"
            " Flask-SQLAlchemy or Flask-SQLAlchemy-Lite: call db.init_app(app) in your"
            " app factory, name the database once in the ini file (flask_db ="
            " 'yourpackage.database:db', e.g. a flask_testcase.SQLAlchemyDatabase for"
            " plain SQLAlchemy), or define your own 'db' fixture."
        )
    return db


_SCHEMA_KEYS = ("schema_from", "migrations_directory", "schema_hook")


@pytest.fixture(scope="session")
def schema_options(pytestconfig: pytest.Config) -> dict[str, t.Any]:
    """How the test schema is made, once per database per run: ``schema_from``,
    ``migrations_directory`` and ``schema_hook``, from the ini file. Override it in a
    ``conftest.py`` to choose in code (for that directory's tests)::

        @pytest.fixture(scope="session")
        def schema_options():
            return {"schema_from": "migrations", "schema_hook": Role.insert_roles}
    """
    return _schema_options(pytestconfig)


def _requested_schema(request: pytest.FixtureRequest) -> dict[str, t.Any]:
    options = request.getfixturevalue("schema_options")
    if not isinstance(options, t.Mapping) or set(options) - set(_SCHEMA_KEYS):
        raise TypeError(
            "the schema_options fixture must return a dict with some of the keys"
            f" {', '.join(_SCHEMA_KEYS)}, got {options!r}"
        )
    return dict(options)


def _database_settings(
    db: t.Any,
    request: pytest.FixtureRequest,
    *,
    label: str = "db",
    reset_sequences: bool = False,
    real_commits: bool = False,
) -> DatabaseSettings:
    settings = DatabaseSettings(
        db,
        reset_sequences=reset_sequences,
        real_commits=real_commits,
        label=label,
        allow_any_database=request.node.get_closest_marker("allow_any_database") is not None,
        opt_in="mark the test @pytest.mark.allow_any_database",
        **_requested_schema(request),
    )
    # A form we cannot use fails here, naming where it came from.
    settings.stack()
    return settings


@pytest.fixture
def db(request: pytest.FixtureRequest, app: flask.Flask) -> t.Any:
    """The app's database (``app.extensions["sqlalchemy"]``: Flask-SQLAlchemy or
    Flask-SQLAlchemy-Lite; or what the ini setting ``flask_db`` names), with the test
    in transactions rolled back afterwards. A ``db`` fixture of your own wins."""
    database = _app_db(request, app, "db")
    label = "db" if not request.config.getini("flask_db") else "flask_db"
    reset = request.node.get_closest_marker("reset_sequences") is not None
    request.node.stash[_DATABASE] = _database_settings(
        database,
        request,
        label=label,
        reset_sequences=reset,
        real_commits=_real_commits(request.node),
    )
    return database


def _real_commits(node: pytest.Item | pytest.Collector) -> bool:
    """Whether the ``real_commits`` marker applies to ``node`` (its own, its class's,
    its module's ``pytestmark``)."""
    return node.get_closest_marker("real_commits") is not None


def data_fixture(
    function: _F | None = None, *, scope: str = "module", name: str | None = None
) -> t.Any:
    """Make a fixture that creates data once per ``scope`` (``"module"``, ``"class"``,
    ``"package"`` or ``"session"``): the pytest counterpart of ``setUpTestData``.

    The function runs in an app context inside a transaction that stays open for the
    scope and is rolled back after it; its session is committed after it returns.
    Every test in the scope sees the data, and what a test changes is undone after
    that test. It may take ``db`` (the app's Flask-SQLAlchemy) and any other fixture
    of a wide enough scope; the ``app`` fixture must be at least as wide. It may be
    a method of a test class (``self`` first)::

        @data_fixture(scope="module")
        def users(db):
            ada = User(name="ada")
            db.session.add(ada)
            db.session.commit()
            return {"ada": ada.id}

        def test_profile(client, users):
            assert client.get(f"/users/{users['ada']}").status_code == 200
    """

    def decorate(function: _F) -> t.Any:
        signature = list(inspect.signature(function).parameters)
        method = bool(signature) and signature[0] == "self"
        parameters = [p for p in signature[1 if method else 0 :] if p != "db"]
        takes_db = "db" in signature

        def make_data(request: pytest.FixtureRequest, app: flask.Flask, *bound: t.Any) -> t.Any:
            database = _app_db(request, app, function.__name__)
            kwargs = {p: request.getfixturevalue(p) for p in parameters}
            if takes_db:
                kwargs["db"] = database
            data = SharedData(function.__name__, lambda: function(*bound, **kwargs))
            try:
                settings = _database_settings(
                    database, request, real_commits=_real_commits(request.node)
                )
                yield data.begin(app, settings)
            finally:
                data.end()

        if method:

            def fixture(self: t.Any, request: pytest.FixtureRequest, app: flask.Flask) -> t.Any:
                yield from make_data(request, app, self)

        else:

            def fixture(request: pytest.FixtureRequest, app: flask.Flask) -> t.Any:  # type: ignore[misc]
                yield from make_data(request, app)

        fixture.__name__ = function.__name__
        fixture.__qualname__ = function.__qualname__
        fixture.__doc__ = function.__doc__
        return pytest.fixture(scope=scope, name=name or function.__name__)(fixture)  # type: ignore[call-overload]

    return decorate if function is None else decorate(function)


@pytest.fixture
def assertNumQueries(request: pytest.FixtureRequest, app: flask.Flask) -> Callable[..., t.Any]:
    """``assertNumQueries(num, func=None, *args, **kwargs)`` as on TestCase: a context
    manager (or a call of ``func``) that fails unless exactly ``num`` statements ran.
    It needs the test's database isolation: use it with ``db``."""
    from .assertions._core import BadArgument
    from .assertions._database import check_num
    from .assertions._database import count_queries

    env = _environment(request)

    def assert_num_queries(
        num: int,
        func: Callable[..., t.Any] | None = None,
        *args: t.Any,
        msg: str | None = None,
        **kwargs: t.Any,
    ) -> t.Any:
        try:
            check_num(num)
        except BadArgument as e:
            raise e.for_method("assertNumQueries") from None
        isolation = env.isolation
        if isolation is None:
            raise ValueError(
                "assertNumQueries() counts the queries of the test's database isolation;"
                " use the db fixture in the test too"
            )

        def fail(standard: str) -> t.NoReturn:
            _fail(standard if msg is None else f"{standard} : {msg}")

        context = count_queries(isolation, num, fail)
        if func is None:
            return context
        with context:
            return func(*args, **kwargs)

    return assert_num_queries


def _fail(message: str) -> t.NoReturn:
    __tracebackhide__ = True
    raise AssertionError(message)


# -- migrations --------------------------------------------------------------------------


class TestMigrations:
    """The four migration checks (:mod:`flask_testcase.migrations`) as pytest tests, for
    the app of the ``app`` fixture; import it into a test module to enable them::

        from flask_testcase.pytest_plugin import TestMigrations  # noqa: F401

    The directory is ``migrations_directory`` of the ``schema_options`` fixture (the ini
    file's; default: Flask-Migrate's).
    Each check makes scratch databases of its own beside the app's test databases.
    """

    def test_migrations_have_one_head(
        self, app: flask.Flask, schema_options: dict[str, t.Any]
    ) -> None:
        """The migrations have exactly one head revision."""
        from .migrations import check_single_head

        __tracebackhide__ = True
        check_single_head(app, directory=schema_options.get("migrations_directory"))

    def test_migrations_upgrade_an_empty_database(
        self, app: flask.Flask, schema_options: dict[str, t.Any]
    ) -> None:
        """An empty database upgrades to the heads."""
        from .migrations import check_upgrade

        __tracebackhide__ = True
        check_upgrade(app, directory=schema_options.get("migrations_directory"))

    def test_migrations_downgrade_and_upgrade_again(
        self, app: flask.Flask, schema_options: dict[str, t.Any]
    ) -> None:
        """Each revision's downgrade undoes its upgrade; upgrading again gives the same
        schema."""
        from .migrations import check_round_trip

        __tracebackhide__ = True
        check_round_trip(app, directory=schema_options.get("migrations_directory"))

    def test_models_match_the_migrations(
        self, app: flask.Flask, schema_options: dict[str, t.Any]
    ) -> None:
        """The models and the schema the migrations build agree."""
        from .migrations import check_models_match

        __tracebackhide__ = True
        check_models_match(app, directory=schema_options.get("migrations_directory"))


_TEMPLATES = pytest.StashKey[list[str]]()
_WORKER_TEMPLATES = "flask_testcase_templates"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """A pytest-xdist worker reports the PostgreSQL templates it built; the controller
    (or a run without workers) drops them, unless databases are kept."""
    from . import schema

    config = session.config
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[_WORKER_TEMPLATES] = list(schema.templates_built)
        return
    _drop_templates([*config.stash.get(_TEMPLATES, []), *schema.templates_built])


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: t.Any, error: t.Any) -> None:
    """pytest-xdist: a worker finished; keep the templates it built, to drop them."""
    built = getattr(node, "workeroutput", {}).get(_WORKER_TEMPLATES, [])
    node.config.stash.setdefault(_TEMPLATES, []).extend(built)


def _drop_templates(urls: list[str]) -> None:
    from .databases import _keep_default
    from .databases import drop_database

    if _keep_default():
        return
    for url in dict.fromkeys(urls):
        try:
            drop_database(url)
        except Exception as e:  # a finished run must not fail on its cleanup
            print(f"flask_testcase: could not drop the template database {url}: {e!r}")
