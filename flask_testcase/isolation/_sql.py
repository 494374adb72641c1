"""Reading SQL statements: which ones would end the test's transaction.

Joined connections and raw cursors pass every statement to :func:`refusal` before it
runs; :data:`TRANSACTION_CONTROL` tells the statements isolation adds itself (left out
of recorded queries).
"""

from __future__ import annotations

import re

__all__ = ["TRANSACTION_CONTROL", "refusal", "statement_heads"]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True


# Transaction control that isolation itself adds (and ``BEGIN``), which assertNumQueries
# leaves out.
TRANSACTION_CONTROL = re.compile(
    r"\s*(?:SAVEPOINT|RELEASE\s+SAVEPOINT|ROLLBACK\s+TO\s+SAVEPOINT|BEGIN)\b", re.IGNORECASE
)
# Statements no query needs: plain reads and writes are let through without a scan.
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


def statement_heads(sql: str) -> list[str]:
    """Each statement of ``sql`` with comments and quoted text blanked, so that what it
    starts with can be read. MySQL's executable comments (``/*! ... */``) count as SQL."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        two = sql[i : i + 2]
        if two == "--" or c == "#":
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
            out.append(" ")
        elif two == "/*":
            executable = re.match(r"/\*M?!\d*", sql[i:])
            if executable:
                i += executable.end()
                continue
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
            out.append(" ")
        elif two == "*/":
            i += 2
        elif c in "'\"`":
            j = i + 1
            while j < n and sql[j] != c:
                j += 2 if sql[j] == "\\" else 1
            i = j + 1
            out.append(" '' ")
        elif c == "$" and (tag := re.match(r"\$\w*\$", sql[i:])):
            j = sql.find(tag.group(), i + tag.end())
            i = n if j < 0 else j + tag.end()
            out.append(" '' ")
        else:
            out.append(c)
            i += 1
    return [part.strip() for part in "".join(out).split(";") if part.strip()]


def refusal(statement: str, dialect: str) -> str | None:
    """Why ``statement`` would end the test's transaction, or None."""
    if _HARMLESS.match(statement):
        return None
    mysql = dialect in {"mysql", "mariadb"}
    for head in statement_heads(statement):
        if _ENDS_TRANSACTION.match(head):
            return "it ends the test's transaction, making its writes permanent"
        if mysql and _MYSQL_COMMITS.match(head):
            return (
                "MySQL/MariaDB commit the open transaction before (and some after) it,"
                " making the test's writes permanent"
            )
    return None
