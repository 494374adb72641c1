"""Background tasks: the recorder of Celery tasks and RQ jobs with its assertion (both
front doors), and the documented patterns, run for real: Celery's
``task_always_eager``, a real Celery worker thread in real-commit mode, RQ's
synchronous queue and its ``SimpleWorker`` against the Redis at 127.0.0.1:6379.

Celery and RQ are optional: without them (or without Redis) these tests skip with the
reason, and under ``CI=true`` they fail instead."""

from __future__ import annotations

import os
import textwrap
import typing as t
import unittest

import flask
import pytest
import sqlalchemy as sa
from _dbs import backend_params
from _dbs import in_ci
from _dbs import url_for
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from flask_testcase import EnqueuedTask
from flask_testcase import TestCase
from flask_testcase import assert_task_enqueued
from flask_testcase import record_tasks
from flask_testcase.tasks import TaskRecording

pytest_plugins = ["pytester"]

REDIS_URL = os.environ.get("FTC_REDIS_URL", "redis://127.0.0.1:6379/0")


def need(module: str) -> t.Any:
    """Import ``module``; skip without it (fail under CI, where the dev extra has it)."""
    try:
        return __import__(module)
    except ImportError as e:
        if in_ci():
            pytest.fail(f"CI=true and {module} is not installed ({e}): pip install -e '.[dev]'")
        pytest.skip(f"{module} is not installed: pip install 'flask-testcase[celery]' / [rq]")


def require_redis() -> t.Any:
    """A Redis client for :data:`REDIS_URL`; skip (fail under CI) when it does not answer."""
    redis = need("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except Exception as e:
        if in_ci():
            pytest.fail(f"CI=true and Redis at {REDIS_URL} is not reachable: {e}")
        pytest.skip(f"Redis at {REDIS_URL} is not reachable: {e}")
    return client


db = SQLAlchemy()


class Member(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "task_member"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    welcomed: Mapped[bool] = mapped_column(default=False)


#: The running test's app, for tasks run by a worker (as a Celery app's Task class or an
#: RQ job pushes the app's context).
current: dict[str, flask.Flask] = {}


def welcome(member_id: int) -> str:
    """The task body: in the app's context, mark the member welcomed and commit."""
    with current["app"].app_context():
        member = db.session.get(Member, member_id)
        assert member is not None, f"member {member_id} is not committed"
        member.welcomed = True
        db.session.commit()
        return member.name


def create_app(url: str, enqueue: t.Callable[[int], object]) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    db.init_app(app)
    current["app"] = app

    @app.post("/members/<name>")
    def join(name: str) -> str:
        member = Member(name=name)
        db.session.add(member)
        db.session.flush()
        member_id = member.id
        db.session.commit()
        # Enqueued after the last commit, the session untouched since: an eager task
        # (rollback mode) then runs outside the request's transaction, not nested in it.
        enqueue(member_id)
        return str(member_id)

    return app


def welcomed() -> list[tuple[str, bool]]:
    # A new transaction: on MySQL/MariaDB (REPEATABLE READ) the session's snapshot would
    # hide what a worker committed since it began.
    db.session.commit()
    return [(m.name, m.welcomed) for m in db.session.scalars(sa.select(Member).order_by(Member.id))]


def run(case: type[unittest.TestCase]) -> unittest.TestResult:
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(case).run(result)
    return result


def problems(result: unittest.TestResult) -> list[str]:
    return [text for _, text in result.errors + result.failures]


def outside(url: str, sql: str) -> list[tuple[t.Any, ...]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


@pytest.fixture(params=[p for p in backend_params() if p.values[0] != "sqlite_memory"])
def url(request: pytest.FixtureRequest) -> str:
    return url_for(request.param, "tasks")


# -- the recorder ------------------------------------------------------------------------


class TestRecorder:
    def test_nothing_is_hooked_outside_a_recording(self) -> None:
        rq = need("rq")
        before = rq.Queue.enqueue_job
        with record_tasks():
            assert rq.Queue.enqueue_job is not before
        assert rq.Queue.enqueue_job is before
        assert TaskRecording._lists == [] and TaskRecording._undo == []

    def test_the_failure_lists_what_was_enqueued(self) -> None:
        tasks = [
            EnqueuedTask("app.send", (1,), {"urgent": True}, "mail", "celery"),
            EnqueuedTask("app.jobs.report", (), {}, "default", "rq"),
        ]
        assert assert_task_enqueued(tasks, "app.send", args=(1,)) is tasks[0]
        with pytest.raises(AssertionError) as e:
            assert_task_enqueued(tasks, "app.send", args=(2,), msg="the second member")
        assert str(e.value) == (
            "No task 'app.send' with args (2,) was enqueued. Enqueued (2):\n"
            "  1. app.send(1, urgent=True) [celery on 'mail']\n"
            "  2. app.jobs.report() [rq on 'default'] : the second member"
        )
        with pytest.raises(AssertionError, match=r"^No task 'x' was enqueued\. No task was"):
            assert_task_enqueued([], "x")
        with pytest.raises(TypeError, match=r"args=\.\.\.\) must be a tuple or list, got 1"):
            assert_task_enqueued(tasks, "app.send", args=1)  # type: ignore[arg-type]


# -- Celery ----------------------------------------------------------------------------


def celery_app(**conf: t.Any) -> t.Any:
    celery = need("celery")
    app = celery.Celery("test_tasks", broker="memory://", backend="cache+memory://")
    app.conf.update(conf)
    app.task(name="test_tasks.welcome")(welcome)
    return app


class TestCeleryEager:
    """``task_always_eager``: the task runs at once, in the request, on the test's
    transaction: rollback mode is enough."""

    def test_testcase(self, url: str) -> None:
        celery = celery_app(task_always_eager=True, task_eager_propagates=True)
        seen: dict[str, t.Any] = {}

        class Case(TestCase):
            db = globals()["db"]

            def create_app(self) -> flask.Flask:
                return create_app(url, lambda i: celery.tasks["test_tasks.welcome"].delay(i))

            def test_it(self) -> None:
                self.assertEqual(self.client.post("/members/ada").status_code, 200)
                seen["members"] = welcomed()
                seen["task"] = self.assertTaskEnqueued("test_tasks.welcome", args=(1,))
                try:
                    self.assertTaskEnqueued("test_tasks.welcome", args=(2,))
                except AssertionError as e:
                    seen["failure"] = str(e)

        result = run(Case)
        assert problems(result) == []
        assert seen["members"] == [("ada", True)]
        assert seen["task"] == EnqueuedTask("test_tasks.welcome", (1,), {}, None, "celery")
        assert seen["failure"] == (
            "No task 'test_tasks.welcome' with args (2,) was enqueued. Enqueued (1):\n"
            "  1. test_tasks.welcome(1) [celery]"
        )
        assert outside(url, "SELECT count(*) FROM task_member") == [(0,)]


class TestCeleryWorkerThread:
    """A real Celery worker in a thread (``celery.contrib.testing.worker``) runs the
    task on a session of its own: it needs the member committed, so real-commit mode."""

    def test_testcase(self, url: str) -> None:
        need("celery")
        from celery.contrib.testing.worker import start_worker

        celery = celery_app()
        seen: dict[str, t.Any] = {}

        class Case(TestCase):
            db = globals()["db"]
            real_commits = True

            @classmethod
            def setUpClass(cls) -> None:
                super().setUpClass()
                worker = start_worker(celery, pool="solo", perform_ping_check=False)
                worker.__enter__()
                cls.addClassCleanup(worker.__exit__, None, None, None)

            def create_app(self) -> flask.Flask:
                def enqueue(i: int) -> None:
                    seen.setdefault("results", []).append(
                        celery.tasks["test_tasks.welcome"].delay(i)
                    )

                return create_app(url, enqueue)

            def test_1_the_worker_sees_the_committed_member(self) -> None:
                # Ids continue after the rollback-mode tests' on PostgreSQL (rollback
                # does not reset sequences); after this test they start from 1.
                member_id = int(self.client.post("/members/ada").text)
                task = self.assertTaskEnqueued("test_tasks.welcome", args=(member_id,))
                # The recorded id names the task the worker runs.
                assert celery.AsyncResult(task.id).get(timeout=20) == "ada"
                seen["members"] = welcomed()

            def test_2_the_next_test_starts_empty(self) -> None:
                seen["next"] = welcomed()
                self.client.post("/members/grace")
                assert seen["results"][-1].get(timeout=20) == "grace"
                seen["ids"] = outside(url, "SELECT id, welcomed FROM task_member")

        result = run(Case)
        assert problems(result) == []
        assert seen["members"] == [("ada", True)]
        assert seen["next"] == []
        assert [(i, bool(w)) for i, w in seen["ids"]] == [(1, True)]
        assert outside(url, "SELECT count(*) FROM task_member") == [(0,)]


# -- RQ ----------------------------------------------------------------------------------


def rq_queue(is_async: bool) -> t.Any:
    rq = need("rq")
    redis = require_redis()
    queue = rq.Queue(f"ftc-tasks-{os.getpid()}", connection=redis, is_async=is_async)
    return queue


class TestRQ:
    def test_synchronous_queue(self, url: str) -> None:
        queue = rq_queue(is_async=False)
        seen: dict[str, t.Any] = {}

        class Case(TestCase):
            db = globals()["db"]

            def create_app(self) -> flask.Flask:
                return create_app(url, lambda i: queue.enqueue(welcome, i))

            def test_it(self) -> None:
                self.client.post("/members/ada")
                seen["members"] = welcomed()
                seen["task"] = self.assertTaskEnqueued("test_tasks.welcome", args=(1,))

        try:
            result = run(Case)
        finally:
            queue.empty()
        assert problems(result) == []
        assert seen["members"] == [("ada", True)]
        assert seen["task"] == EnqueuedTask("test_tasks.welcome", (1,), {}, queue.name, "rq")
        assert outside(url, "SELECT count(*) FROM task_member") == [(0,)]

    def test_simple_worker_in_real_commit_mode(self, url: str) -> None:
        rq = need("rq")
        queue = rq_queue(is_async=True)
        seen: dict[str, t.Any] = {}

        class Case(TestCase):
            db = globals()["db"]
            real_commits = True

            def create_app(self) -> flask.Flask:
                return create_app(url, lambda i: queue.enqueue(welcome, i))

            def test_it(self) -> None:
                self.client.post("/members/ada")
                # Queued, not run: the member is not welcomed yet.
                seen["before"] = welcomed()
                worker = rq.SimpleWorker([queue], connection=queue.connection)
                seen["worked"] = worker.work(burst=True)
                seen["after"] = welcomed()
                seen["outside"] = outside(url, "SELECT name, welcomed FROM task_member")

        try:
            result = run(Case)
        finally:
            queue.empty()
        assert problems(result) == []
        assert seen["before"] == [("ada", False)]
        assert seen["worked"] is True
        assert seen["after"] == [("ada", True)]
        assert [(n, bool(w)) for n, w in seen["outside"]] == [("ada", True)]
        assert outside(url, "SELECT count(*) FROM task_member") == [(0,)]


# -- the pytest front door ------------------------------------------------------------------

PLUGIN_TESTS = """
import os

import flask
import pytest
import rq
import redis
import sqlalchemy as sa
from celery import Celery
from flask_sqlalchemy import SQLAlchemy
from flask_testcase import assert_task_enqueued, asserts

URL = {url!r}
REDIS_URL = {redis_url!r}
db = SQLAlchemy()


class Member(db.Model):
    __tablename__ = "task_plugin_member"
    id = sa.Column(sa.Integer, primary_key=True)
    welcomed = sa.Column(sa.Boolean, default=False)


celery = Celery("jobs", broker="memory://", backend="cache+memory://")
celery.conf.task_always_eager = True
queue = rq.Queue("ftc-plugin-" + str(os.getpid()), connection=redis.Redis.from_url(REDIS_URL))
apps = []


def welcome_job(member_id):
    with apps[-1].app_context():
        db.session.get(Member, member_id).welcomed = True
        db.session.commit()


welcome = celery.task(name="jobs.welcome")(welcome_job)


@pytest.fixture
def app():
    app = flask.Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = URL
    db.init_app(app)
    apps.append(app)

    @app.post("/<how>")
    def join(how):
        member = Member()
        db.session.add(member)
        db.session.flush()
        member_id = member.id
        db.session.commit()
        if how == "celery":
            welcome.delay(member_id)
        else:
            queue.enqueue(welcome_job, member_id)
        return str(member_id)

    return app


def test_celery_eager(client, db, tasks):
    client.post("/celery")
    assert_task_enqueued(tasks, "jobs.welcome", args=(1,))
    # The same check as a function of the current test, without the fixture.
    assert asserts.assertTaskEnqueued("jobs.welcome", kwargs=dict()).args == (1,)
    assert db.session.scalar(sa.select(Member.welcomed)) is True


@pytest.mark.real_commits
def test_rq_simple_worker(client, db, tasks):
    client.post("/rq")
    assert [t.via for t in tasks] == ["rq"]
    assert rq.SimpleWorker([queue], connection=queue.connection).work(burst=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(Member.welcomed)) is True
    queue.empty()


def test_the_failure_lists_what_was_enqueued(client, db, tasks):
    client.post("/celery")
    assert_task_enqueued(tasks, "jobs.farewell")
"""


def test_plugin(pytester: pytest.Pytester, url: str) -> None:
    need("celery")
    need("rq")
    require_redis()
    pytester.makepyfile(
        test_jobs=PLUGIN_TESTS.format(url=url, redis_url=REDIS_URL),
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:flask")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: No task 'jobs.farewell' was enqueued. Enqueued (1):",
            "*  1. jobs.welcome(1) [[]celery[]]",
        ]
    )
    assert outside(url, "SELECT count(*) FROM task_plugin_member") == [(0,)]


def test_the_tasks_fixture_without_celery_or_rq_says_what_to_do(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        textwrap.dedent(
            """
            import flask
            import pytest

            @pytest.fixture
            def app():
                return flask.Flask(__name__)

            def test_it(tasks):
                pass
            """
        )
    )
    # A process of its own: this one has imported Celery and RQ.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:flask")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*neither was imported when the test began*"])
