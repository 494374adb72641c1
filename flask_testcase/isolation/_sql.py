"""Reading SQL statements: which ones would end the test's transaction, and which
ones leave session state behind that ROLLBACK does not undo.

Joined connections and raw cursors pass every statement to :func:`refusal` before it
runs, and to :func:`session_changes` when it may change session state (every statement
that is not :func:`harmless`, and those a :func:`sniffer` finds something in);
:data:`TRANSACTION_CONTROL` tells the statements isolation adds itself (left out of
recorded queries).

A statement string is read as its database reads it (:class:`Reading`): where each
string, quoted identifier and comment begins and ends, and so where each statement
ends. Getting that wrong either way lets a ``COMMIT`` through: on PostgreSQL, whose
strings take no backslash escapes, ``SELECT 'a\\'; COMMIT; SELECT 1`` is three
statements; read with MySQL's rules it is one. The readings:

- **PostgreSQL**: ``'...'`` with ``''`` doubling and no escapes (the default
  ``standard_conforming_strings = on``; with it off, the driver says so and
  backslashes escape); ``E'...'`` with backslash escapes, continued on the next line;
  ``U&'...'``, ``B'...'``, ``X'...'`` as plain strings; dollar quoting (``$$...$$``,
  ``$tag$...$tag$``; ``$1`` is a parameter and ``a$b`` an identifier); ``"..."``
  identifiers; ``--`` comments to the end of the line, ``/* */`` comments nested.
- **MySQL/MariaDB**: ``'...'`` and ``"..."`` strings with backslash escapes and
  doubling; backtick identifiers; ``#`` comments, ``--`` comments only before a space
  or control character (``1--1`` is arithmetic), ``/* */`` comments not nested, and
  the executable comments ``/*! ... */`` and ``/*M! ... */`` read as SQL. The
  session's ``sql_mode`` can turn backslash escapes off (``NO_BACKSLASH_ESCAPES``) or
  make ``"..."`` an identifier (``ANSI_QUOTES``), and the driver does not say which;
  a versioned ``/*!80000 ... */`` is a comment on an older server, ``/*M! */`` one on
  MySQL. So a statement with a backslash in it is read each way, one with an
  executable comment both with it as SQL and as a comment, and it is refused if any
  reading finds a statement that would end the transaction.
- **SQLite**: ``'...'`` with ``''`` doubling and no escapes; ``"..."``, ``[...]`` and
  backtick identifiers; ``--`` and ``/* */`` comments; no dollar quoting (``$name`` is
  a parameter).
- **Any other dialect**: every reading above; refused if any of them finds one.

A statement that starts with a plain read or write and has no ``;`` anywhere is one
statement in every reading, and is let through without a scan (:func:`refusal`'s fast
path).
"""

from __future__ import annotations

import re
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "READINGS",
    "TRANSACTION_CONTROL",
    "Change",
    "Reading",
    "harmless",
    "readings",
    "refusal",
    "session_changes",
    "sniffer",
    "statement_heads",
]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True

# Transaction control that isolation itself adds (and ``BEGIN``), which assertNumQueries
# leaves out.
TRANSACTION_CONTROL = re.compile(
    r"\s*(?:SAVEPOINT|RELEASE\s+SAVEPOINT|ROLLBACK\s+TO\s+SAVEPOINT|BEGIN)\b", re.IGNORECASE
)
# Statements no query needs: plain reads and writes are let through without a scan.
# Without a ``;`` anywhere (not even in a string or comment) a string is one statement
# whatever the rules of its dialect, and these words begin no statement that ends a
# transaction.
_HARMLESS = re.compile(
    r"\s*(?:SELECT|INSERT|UPDATE|DELETE|WITH|SAVEPOINT|RELEASE|SHOW|EXPLAIN|PRAGMA|VALUES)\b"
    r"[^;]*\Z",
    re.IGNORECASE | re.DOTALL,
)
# Ends or replaces the transaction on every backend.
_ENDS_TRANSACTION = re.compile(
    r"(?:COMMIT|END|ABORT|BEGIN|START\s+TRANSACTION|PREPARE\s+TRANSACTION"
    r"|ROLLBACK(?!\s+(?:WORK\s+|TRANSACTION\s+)?TO\b))\b",
    re.IGNORECASE,
)
# MySQL/MariaDB: statements that commit implicitly (MariaDB's documented list).
_MYSQL_COMMITS = re.compile(
    r"(?:ALTER|ANALYZE|CACHE\s+INDEX|CHANGE\s+(?:MASTER|REPLICATION)|CHECK\s+TABLE"
    r"|CREATE(?!\s+(?:OR\s+REPLACE\s+)?TEMPORARY\s+TABLE\b)|DROP(?!\s+TEMPORARY\s+TABLE\b)"
    r"|FLUSH|GRANT|INSTALL|LOAD\s+INDEX|LOCK\s+TABLES?|OPTIMIZE|RENAME|REPAIR|RESET"
    r"|REVOKE|SET\s+PASSWORD|SET\b[^;]*\bAUTOCOMMIT|SHUTDOWN|START\s+(?:SLAVE|REPLICA)"
    r"|STOP\s+(?:SLAVE|REPLICA)|TRUNCATE|UNINSTALL|UNLOCK\s+TABLES?|XA)\b",
    re.IGNORECASE,
)

_MYSQL = frozenset({"mysql", "mariadb"})


class Reading(t.NamedTuple):
    """The lexical rules by which one database reads a statement string."""

    #: Which database reads this way (for messages and tests).
    name: str
    #: A backslash escapes the next character in ``'...'`` (and in ``"..."`` when
    #: that is a string).
    backslash_escapes: bool
    #: ``"..."`` is a string (MySQL without ANSI_QUOTES), not an identifier.
    double_quoted_strings: bool = False
    #: ``E'...'`` strings with backslash escapes (PostgreSQL).
    escape_strings: bool = False
    #: ``$$...$$`` and ``$tag$...$tag$`` (PostgreSQL).
    dollar_quotes: bool = False
    #: ``/* /* */ */`` is one comment (PostgreSQL).
    nested_comments: bool = False
    #: ``#`` begins a comment (MySQL).
    hash_comments: bool = False
    #: ``--`` begins a comment only before whitespace, a control character or the end
    #: (MySQL).
    dash_comments_need_space: bool = False
    #: ``/*! ... */`` and ``/*M! ... */`` are SQL (MySQL, MariaDB).
    executable_comments: bool = False
    #: Backtick identifiers (MySQL, SQLite).
    backticks: bool = False
    #: ``[...]`` identifiers (SQLite).
    brackets: bool = False
    #: What ends a ``--`` (or ``#``) comment.
    line_ends: str = "\n"


POSTGRESQL = Reading(
    "postgresql",
    backslash_escapes=False,
    escape_strings=True,
    dollar_quotes=True,
    nested_comments=True,
    line_ends="\n\r",
)
#: PostgreSQL with ``standard_conforming_strings = off``.
POSTGRESQL_ESCAPES = POSTGRESQL._replace(name="postgresql-escapes", backslash_escapes=True)
MYSQL = Reading(
    "mysql",
    backslash_escapes=True,
    double_quoted_strings=True,
    hash_comments=True,
    dash_comments_need_space=True,
    executable_comments=True,
    backticks=True,
)
#: MySQL with ``sql_mode`` ``ANSI_QUOTES``.
MYSQL_ANSI_QUOTES = MYSQL._replace(name="mysql-ansi-quotes", double_quoted_strings=False)
#: MySQL with ``sql_mode`` ``NO_BACKSLASH_ESCAPES``.
MYSQL_NO_BACKSLASH_ESCAPES = MYSQL._replace(
    name="mysql-no-backslash-escapes", backslash_escapes=False
)
SQLITE = Reading("sqlite", backslash_escapes=False, backticks=True, brackets=True)

#: Every reading, by name.
READINGS = {
    r.name: r
    for r in (
        POSTGRESQL,
        POSTGRESQL_ESCAPES,
        MYSQL,
        MYSQL_ANSI_QUOTES,
        MYSQL_NO_BACKSLASH_ESCAPES,
        SQLITE,
    )
}


def readings(
    dialect: str, sql: str, standard_strings: Callable[[], bool | None] | None = None
) -> list[Reading]:
    """The readings ``sql`` may have on ``dialect``: one where the rules are known, each
    possible one where they depend on settings of the session (only a backslash tells
    them apart).

    :param standard_strings: asked on PostgreSQL, for a string with a backslash, whether
        ``standard_conforming_strings`` is on (None: unknown).
    """
    backslash = "\\" in sql
    if dialect == "postgresql":
        if not backslash:
            return [POSTGRESQL]
        standard = standard_strings() if standard_strings is not None else None
        if standard is None:
            return [POSTGRESQL, POSTGRESQL_ESCAPES]
        return [POSTGRESQL if standard else POSTGRESQL_ESCAPES]
    if dialect in _MYSQL:
        return _mysql_readings(sql, backslash)
    if dialect == "sqlite":
        return [SQLITE]
    postgresql = [POSTGRESQL, POSTGRESQL_ESCAPES] if backslash else [POSTGRESQL]
    return [*postgresql, *_mysql_readings(sql, backslash), SQLITE]


def _mysql_readings(sql: str, backslash: bool) -> list[Reading]:
    found = [MYSQL, MYSQL_ANSI_QUOTES, MYSQL_NO_BACKSLASH_ESCAPES] if backslash else [MYSQL]
    if _EXECUTABLE.search(sql):
        # A version newer than the server's, or MariaDB's /*M! on MySQL: a comment.
        found += [r._replace(executable_comments=False) for r in found]
    return found


_IDENTIFIER_CHAR = re.compile(r"[\w$\x80-\U0010ffff]")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\x80-\U0010ffff][\w\x80-\U0010ffff]*)?\$")
_EXECUTABLE = re.compile(r"/\*M?!\d*")
# After an E'...' string, whitespace with a newline (comments allowed), then a quote,
# continues it (PostgreSQL's quotecontinue).
_CONTINUATION = re.compile(r"(?:[ \t\f\v]|--[^\n\r]*)*[\n\r](?:[ \t\n\r\f\v]|--[^\n\r]*[\n\r])*'")
#: The characters that may begin a comment, quoted text or the end of /*! */.
_SPECIAL = re.compile(r"[-#/*'\"`\[$]")
#: What may follow ``--`` for MySQL to read a comment (ASCII whitespace and controls).
_MYSQL_AFTER_DASHES = frozenset(" \x7f" + "".join(map(chr, range(32))))


def statement_heads(sql: str, reading: Reading, *, names: bool = False) -> list[str]:
    """Each statement of ``sql`` as ``reading`` reads it, with comments and quoted text
    blanked (a string or quoted identifier becomes ``''``), so that what it starts with
    can be read.

    :param names: keep a quoted identifier made of word characters as that word
        (```prod`.t`` reads ``prod.t``), for the names a statement reaches.
    """
    out: list[str] = []
    i, n = 0, len(sql)
    # Inside /*! ... */ (MySQL): its */ ends it; elsewhere */ is two operators.
    executable = False
    while i < n:
        # Plain text up to the next character that may begin something else.
        special = _SPECIAL.search(sql, i)
        if special is None:
            out.append(sql[i:])
            break
        if special.start() > i:
            out.append(sql[i : special.start()])
            i = special.start()
        c = sql[i]
        if _line_comment_at(sql, i, reading):
            i = _line_end(sql, i, reading.line_ends)
            out.append(" ")
        elif sql.startswith("/*", i):
            found = _EXECUTABLE.match(sql, i) if reading.executable_comments else None
            if found and not executable:
                executable = True
                i = found.end()
            else:
                i = _comment_end(sql, i, reading.nested_comments)
            out.append(" ")
        elif executable and sql.startswith("*/", i):
            executable = False
            i += 2
            out.append(" ")
        elif c == "'":
            i = _string_end(sql, i, reading)
            out.append(" '' ")
        elif c == '"':
            escapes = reading.double_quoted_strings and reading.backslash_escapes
            start, i = i, _quoted_end(sql, i, '"', escapes)
            out.append(
                _name(sql[start:i]) if names and not reading.double_quoted_strings else " '' "
            )
        elif c == "`" and reading.backticks:
            start, i = i, _quoted_end(sql, i, "`", escapes=False)
            out.append(_name(sql[start:i]) if names else " '' ")
        elif c == "[" and reading.brackets:
            j = sql.find("]", i + 1)
            start, i = i, n if j < 0 else j + 1
            out.append(_name(sql[start:i]) if names else " '' ")
        elif c == "$" and reading.dollar_quotes and (tag := _dollar_tag(sql, i)):
            j = sql.find(tag, i + len(tag))
            i = n if j < 0 else j + len(tag)
            out.append(" '' ")
        else:
            out.append(c)
            i += 1
    return [part.strip() for part in "".join(out).split(";") if part.strip()]


_WORD = re.compile(r"[\w$]+\Z")


def _name(quoted: str) -> str:
    """A quoted identifier as a bare word when it is one (else blanked)."""
    inner = quoted[1:-1]
    return f" {inner} " if _WORD.match(inner) else " '' "


def _line_comment_at(sql: str, i: int, reading: Reading) -> bool:
    if sql[i] == "#":
        return reading.hash_comments
    if not sql.startswith("--", i):
        return False
    # MySQL reads ``--`` as a comment only before a space or a control character.
    return (
        not reading.dash_comments_need_space
        or i + 2 == len(sql)
        or sql[i + 2] in _MYSQL_AFTER_DASHES
    )


def _string_end(sql: str, i: int, reading: Reading) -> int:
    """Where the string opened at ``i`` ends, continuations of an ``E'...'`` included."""
    escapes = reading.backslash_escapes
    if reading.escape_strings and i > 0 and sql[i - 1] in "eE":
        # E'...', the E not the end of a longer word (``type'...'`` is a plain string).
        escapes = escapes or not (i > 1 and _IDENTIFIER_CHAR.match(sql[i - 2]))
    end = _quoted_end(sql, i, "'", escapes)
    if escapes and reading.escape_strings:
        while (more := _CONTINUATION.match(sql, end)) is not None:
            end = _quoted_end(sql, more.end() - 1, "'", escapes=True)
    return end


def _dollar_tag(sql: str, i: int) -> str | None:
    """The dollar-quote delimiter (``$$``, ``$tag$``) opened at ``i``, if one is: not
    after a character of a word (``a$b$`` is an identifier), not ``$1``."""
    if i > 0 and _IDENTIFIER_CHAR.match(sql[i - 1]):
        return None
    tag = _DOLLAR_TAG.match(sql, i)
    return None if tag is None else tag.group()


def _line_end(sql: str, i: int, ends: str) -> int:
    """Where the line comment at ``i`` ends (after its line break)."""
    found = [j for j in (sql.find(end, i) for end in ends) if j >= 0]
    return min(found) + 1 if found else len(sql)


def _comment_end(sql: str, i: int, nested: bool) -> int:
    """Where the ``/* */`` comment at ``i`` ends (an unclosed one: at the end)."""
    if not nested:
        j = sql.find("*/", i + 2)
        return len(sql) if j < 0 else j + 2
    depth, j, n = 0, i, len(sql)
    while j < n:
        two = sql[j : j + 2]
        if two == "/*":
            depth += 1
            j += 2
        elif two == "*/":
            depth -= 1
            j += 2
            if not depth:
                return j
        else:
            j += 1
    return n


def _quoted_end(sql: str, i: int, quote: str, escapes: bool) -> int:
    """Where the quoted text opened at ``i`` ends: after its closing quote (a doubled
    quote stays inside; with ``escapes``, so does a quote after a backslash)."""
    j, n = i + 1, len(sql)
    while j < n:
        c = sql[j]
        if escapes and c == "\\":
            j += 2
        elif c == quote:
            if sql.startswith(quote, j + 1):
                j += 2
            else:
                return j + 1
        else:
            j += 1
    return n


def _reason(head: str, dialect: str) -> str | None:
    if _ENDS_TRANSACTION.match(head):
        return "it ends the test's transaction, making its writes permanent"
    if dialect in _MYSQL and _MYSQL_COMMITS.match(head):
        return (
            "MySQL/MariaDB commit the open transaction before (and some after) it,"
            " making the test's writes permanent"
        )
    return None


def harmless(statement: str) -> bool:
    """Whether ``statement`` is a plain read or write, one statement in every reading:
    no scan needed."""
    return _HARMLESS.match(statement) is not None


def refusal(
    statement: str, dialect: str, standard_strings: Callable[[], bool | None] | None = None
) -> str | None:
    """Why ``statement`` would end the test's transaction on ``dialect`` in any of its
    readings (:func:`readings`), or None.

    :param standard_strings: see :func:`readings`.
    """
    if harmless(statement):
        return None
    for reading in readings(dialect, statement, standard_strings):
        for head in statement_heads(statement, reading):
            reason = _reason(head, dialect)
            if reason is not None:
                return reason
    return None


# -- session state ---------------------------------------------------------------------
#
# What a statement leaves on the connection that ROLLBACK does not undo: settings,
# variables, temporary tables, locks, prepared statements, another current database,
# attached files. Read with the same readings as refusal(), so that a string or a
# comment never counts and a second statement after a ``;`` does.


class Change(t.NamedTuple):
    """Session state a statement changes (:func:`session_changes`)."""

    #: ``"state"`` (settings and the like, undone by a new connection), ``"use"``
    #: (another current database: ``target``), ``"attach"`` (SQLite: the file
    #: ``target``, None when not given as a literal), ``"qualified"`` (MySQL: a name
    #: in the database ``target``).
    kind: str
    #: What it is, for messages ("SET", "GET_LOCK()").
    what: str
    target: str | None = None


# Statements that leave state behind whatever they are given.
_MYSQL_STATE = re.compile(
    r"(?P<what>SET|CREATE\s+(?:OR\s+REPLACE\s+)?TEMPORARY\s+TABLE|DROP\s+TEMPORARY\s+TABLE"
    r"|PREPARE|DEALLOCATE|DROP\s+PREPARE|HANDLER)\b",
    re.IGNORECASE,
)
_MYSQL_LOCK = re.compile(r"\bGET_LOCK\s*\(", re.IGNORECASE)
_MYSQL_VARIABLE = re.compile(r"@[\w$.]*\s*:=|\bINTO\s+@", re.IGNORECASE)
_MYSQL_USE = re.compile(r"USE\s+([\w$]+)\s*\Z", re.IGNORECASE)
_PG_LOCK = re.compile(r"\bpg_(?:try_)?advisory_lock(?:_shared)?\s*\(", re.IGNORECASE)
_PG_STATE = re.compile(r"(?P<what>PREPARE|DEALLOCATE)\b", re.IGNORECASE)
_SQLITE_PRAGMA = re.compile(
    r"PRAGMA\s+(?:[\w$]+\s*\.\s*)?(?P<name>[\w$]+)\s*(?P<set>=|\()?", re.IGNORECASE
)
_SQLITE_ATTACH = re.compile(r"(?P<what>ATTACH|DETACH)\b", re.IGNORECASE)
_SQLITE_ATTACHED = re.compile(r"\s*ATTACH\s+(?:DATABASE\s+)?'((?:[^']|'')*)'", re.IGNORECASE)
#: SQLite pragmas that take an argument and only read (a table's columns, a check),
#: and those that write the database file inside the transaction (rolled back).
_SQLITE_READ_PRAGMAS = frozenset(
    {"table_info", "table_xinfo", "table_list", "index_info", "index_xinfo", "index_list",
     "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check",
     "user_version", "application_id", "schema_version", "data_version", "page_count",
     "freelist_count", "database_list", "collation_list", "function_list",
     "module_list", "pragma_list", "compile_options", "optimize", "incremental_vacuum",
     "wal_checkpoint"}
)  # fmt: skip
_QUALIFIED = re.compile(r"(?<![\w$.])([\w$]+)\s*\.\s*[\w$*']")

# Cheap looks for state in a statement harmless() lets through without a scan: words
# (in lower case) one of which any such statement has.
_SNIFF = {
    "postgresql": ("advisory_lock",),
    "mysql": ("get_lock", "@"),
    "mariadb": ("get_lock", "@"),
}


def sniffer(dialect: str, databases: t.Collection[str] = ()) -> Callable[[str], bool]:
    """A cheap test of a statement :func:`harmless` lets through: whether it may
    change session state on ``dialect`` (or, on MySQL, name one of ``databases``).
    Only a statement it finds something in is read in full by
    :func:`session_changes`, so it may find too much, never too little."""
    if dialect == "sqlite":
        return _starts_with_pragma
    words = _SNIFF.get(dialect, ("advisory_lock", "get_lock", "@", "pragma"))
    words += tuple(name.lower() for name in databases)

    def sniff(statement: str) -> bool:
        lowered = statement.lower()
        for word in words:  # noqa: SIM110 (a loop: any() with a generator is slower)
            if word in lowered:
                return True
        return False

    return sniff


def _starts_with_pragma(statement: str) -> bool:
    return statement.lstrip()[:6].upper() == "PRAGMA"


def session_changes(
    statement: str,
    dialect: str,
    standard_strings: Callable[[], bool | None] | None = None,
    *,
    databases: t.Collection[str] = (),
) -> list[Change]:
    """The session state ``statement`` changes on ``dialect``, in any of its readings.

    :param databases: on MySQL/MariaDB, the names (lower case) of databases a
        qualified name must not reach (``production.t``): each one found is a
        ``"qualified"`` change.
    """
    found: list[Change] = []
    for reading in readings(dialect, statement, standard_strings):
        for head in statement_heads(statement, reading, names=True):
            for change in _changes(head, dialect, databases):
                if change not in found:
                    found.append(change)
    if dialect == "sqlite":
        found = [_attached(statement) if c.kind == "attach" else c for c in found]
    return found


def _changes(head: str, dialect: str, databases: t.Collection[str]) -> list[Change]:
    out: list[Change] = []
    if dialect in _MYSQL or dialect not in {"postgresql", "sqlite"}:
        use = _MYSQL_USE.match(head)
        if use is not None:
            out.append(Change("use", "USE", use.group(1)))
        elif (m := _MYSQL_STATE.match(head)) is not None:
            out.append(Change("state", " ".join(m.group("what").upper().split())))
        if _MYSQL_LOCK.search(head):
            out.append(Change("state", "GET_LOCK()"))
        if _MYSQL_VARIABLE.search(head):
            out.append(Change("state", "a user variable (@name := ...)"))
        if databases:
            for name in _QUALIFIED.findall(head):
                if name.lower() in databases:
                    out.append(Change("qualified", f"{name}.", name))
    if dialect in {"postgresql"} or dialect not in {*_MYSQL, "sqlite"}:
        if _PG_LOCK.search(head):
            out.append(Change("state", "pg_advisory_lock()"))
        if (m := _PG_STATE.match(head)) is not None and not _ENDS_TRANSACTION.match(head):
            out.append(Change("state", m.group("what").upper()))
    if dialect == "sqlite" or dialect not in {*_MYSQL, "postgresql"}:
        pragma = _SQLITE_PRAGMA.match(head)
        if (
            pragma is not None
            and pragma.group("set")
            and pragma.group("name").lower() not in _SQLITE_READ_PRAGMAS
        ):
            out.append(Change("state", f"PRAGMA {pragma.group('name').lower()}"))
        if (m := _SQLITE_ATTACH.match(head)) is not None:
            what = m.group("what").upper()
            out.append(Change("attach" if what == "ATTACH" else "state", what))
    return out


def _attached(statement: str) -> Change:
    """The file an ``ATTACH`` names, when it is given as a literal."""
    m = _SQLITE_ATTACHED.match(statement)
    return Change("attach", "ATTACH", None if m is None else m.group(1).replace("''", "'"))
