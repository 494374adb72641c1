"""The plain-unittest migration guide (docs/migration-unittest.rst) is runnable: its app,
its suite before and its suite after, each run for real with ``python -m unittest``, on
a SQLite file and on PostgreSQL; the suite after leaves nothing in the database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from _dbs import require
from test_docs import ROOT
from test_docs import _code_blocks

GUIDE = ROOT / "docs" / "migration-unittest.rst"


def _write_guide(directory: Path) -> None:
    blocks = [code for _, code in _code_blocks(GUIDE, "python")]
    names = [code.splitlines()[0].removeprefix("# ").strip() for code in blocks]
    assert names == ["myapp.py", "test_before.py", "test_after.py"]
    for name, code in zip(names, blocks):
        (directory / name).write_text(code, encoding="utf-8")


def _run(
    directory: Path, module: str, url: str, **extra: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(directory), **extra}
    return subprocess.run(
        [sys.executable, "-m", "unittest", "-v", module],
        cwd=directory, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture(params=["sqlite_file", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def base_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite_file":
        return f"sqlite:///{tmp_path / 'app.db'}"
    require("postgresql")
    from _dbs import POSTGRESQL

    return POSTGRESQL.rsplit("/", 1)[0] + f"/guide{os.getpid()}"


def test_the_suite_before_and_after_pass_and_after_leaves_nothing(
    tmp_path: Path, base_url: str
) -> None:
    _write_guide(tmp_path)
    before_url = base_url
    if base_url.startswith("postgresql"):
        from flask_testcase import database_for_tests

        # The suite before needs a database of its own to create and drop tables in.
        before_url = database_for_tests(base_url.replace("/guide", "/guidebefore"))
    before = _run(tmp_path, "test_before", before_url)
    assert before.returncode == 0, before.stderr
    assert "Ran 3 tests" in before.stderr

    # Kept after the run, to be counted from outside.
    after = _run(tmp_path, "test_after", base_url, FLASK_TESTCASE_KEEP_DATABASES="1")
    assert after.returncode == 0, after.stderr
    assert "Ran 3 tests" in after.stderr
    assert "OK" in after.stderr

    from flask_testcase import database_for_tests
    from flask_testcase import drop_database

    test_url = database_for_tests(base_url, keep=True)
    engine = sa.create_engine(test_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            # The tables stay (made once per run); their rows do not.
            assert conn.scalar(sa.text('SELECT count(*) FROM "user"')) == 0
            assert conn.scalar(sa.text("SELECT count(*) FROM role")) == 0
    finally:
        engine.dispose()
        drop_database(test_url)
