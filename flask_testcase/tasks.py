"""Background tasks: a recorder of the Celery tasks and RQ jobs enqueued during a block
(:func:`record_tasks`) and an assertion whose failure lists what was enqueued
(:func:`assert_task_enqueued`), like the outbox for emails. Django's
``captureOnCommitCallbacks`` is the nearest comparison.

Neither Celery nor RQ is imported here: the recorder listens to the one of them that the
app has imported already (``sys.modules``), and :class:`TaskRecording`, the one object
that installs and restores what it needs, leaves nothing behind:

- **Celery**: the public ``before_task_publish`` signal (a task sent to a broker), and
  ``task_prerun`` for a task run eagerly (``task_always_eager``: run at once, never
  published);
- **RQ**: ``Queue.enqueue_job`` and ``Queue.enqueue_many``, wrapped while a recording
  runs (a synchronous queue, ``is_async=False``, runs the job inside them: the job is
  recorded before it runs).

Patterns for running the tasks themselves in tests are in :doc:`/background-tasks`.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import sys
import threading
import typing as t

from ._current import set_until_undone
from .assertions._core import AssertionBase
from .assertions._core import assertion

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from collections.abc import Sequence

__all__ = ["EnqueuedTask", "TaskRecording", "assert_task_enqueued", "record_tasks"]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True


@dataclasses.dataclass(frozen=True)
class EnqueuedTask:
    """One task enqueued during a recording."""

    #: The task's name: Celery's task name (``"myapp.tasks.send_welcome"``), or the
    #: dotted name of an RQ job's function.
    name: str
    #: Its positional arguments.
    args: tuple[t.Any, ...] = ()
    #: Its keyword arguments.
    kwargs: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    #: The queue (RQ) or routing key (Celery) it went to, when known.
    queue: str | None = None
    #: ``"celery"`` or ``"rq"``.
    via: str = "celery"
    #: The task's id (Celery's task id, RQ's job id), to wait for it:
    #: ``celery_app.AsyncResult(task.id).get(timeout=10)``, ``Job.fetch(task.id, ...)``.
    #: Left out of comparisons.
    id: str | None = dataclasses.field(default=None, compare=False)

    def __str__(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        where = f" on {self.queue!r}" if self.queue else ""
        return f"{self.name}({', '.join(parts)}) [{self.via}{where}]"


class TaskRecording:
    """The one object that hooks Celery and RQ while any :func:`record_tasks` block
    runs, and restores them when the last one ends."""

    _lock = threading.Lock()
    _lists: t.ClassVar[list[list[EnqueuedTask]]] = []
    _undo: t.ClassVar[list[t.Callable[[], None]]] = []

    @classmethod
    def add(cls, tasks: list[EnqueuedTask]) -> None:
        with cls._lock:
            if not cls._lists:
                cls._install()
            cls._lists.append(tasks)

    @classmethod
    def remove(cls, tasks: list[EnqueuedTask]) -> None:
        with cls._lock:
            if any(found is tasks for found in cls._lists):
                cls._lists[:] = [found for found in cls._lists if found is not tasks]
            if not cls._lists:
                undo, cls._undo[:] = list(cls._undo), []
                for step in reversed(undo):
                    step()

    @classmethod
    def record(cls, task: EnqueuedTask) -> None:
        for tasks in list(cls._lists):
            tasks.append(task)

    @classmethod
    def _install(cls) -> None:
        if "celery" in sys.modules:
            cls._install_celery()
        if "rq" in sys.modules:
            cls._install_rq()

    @classmethod
    def _install_celery(cls) -> None:
        from celery import signals

        def published(sender: t.Any = None, body: t.Any = None, headers: t.Any = None,
                      routing_key: t.Any = None, **kwargs: t.Any) -> None:  # fmt: skip
            name = (headers or {}).get("task") or sender
            if isinstance(body, dict):  # message protocol 1
                args, kw = body.get("args", ()), body.get("kwargs", {})
            else:
                args, kw = (tuple(body[0]), dict(body[1])) if body else ((), {})
            task_id = (headers or {}).get("id")
            if task_id is None and isinstance(body, dict):
                task_id = body.get("id")
            cls.record(
                EnqueuedTask(
                    str(name), tuple(args), dict(kw or {}), routing_key, "celery", task_id
                )
            )

        def eager(sender: t.Any = None, task: t.Any = None, args: t.Any = None,
                  kwargs: t.Any = None, **extra: t.Any) -> None:  # fmt: skip
            if task is not None and getattr(task.request, "is_eager", False):
                cls.record(
                    EnqueuedTask(
                        task.name,
                        tuple(args or ()),
                        dict(kwargs or {}),
                        None,
                        "celery",
                        getattr(task.request, "id", None),
                    )
                )

        signals.before_task_publish.connect(published, weak=False)
        signals.task_prerun.connect(eager, weak=False)
        cls._undo.append(lambda: signals.before_task_publish.disconnect(published))
        cls._undo.append(lambda: signals.task_prerun.disconnect(eager))

    @classmethod
    def _install_rq(cls) -> None:
        import rq

        Queue: t.Any = rq.Queue
        original_job = vars(Queue)["enqueue_job"]
        original_many = vars(Queue)["enqueue_many"]

        def job_task(job: t.Any, queue: str) -> EnqueuedTask:
            return EnqueuedTask(
                str(job.func_name),
                tuple(job.args or ()),
                dict(job.kwargs or {}),
                queue,
                "rq",
                str(job.id),
            )

        def enqueue_job(self: t.Any, job: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
            cls.record(job_task(job, self.name))
            return original_job(self, job, *args, **kwargs)

        def enqueue_many(self: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
            jobs = original_many(self, *args, **kwargs)
            for job in jobs:
                cls.record(job_task(job, self.name))
            return jobs

        enqueue_job.__doc__, enqueue_many.__doc__ = original_job.__doc__, original_many.__doc__
        Queue.enqueue_job = enqueue_job
        Queue.enqueue_many = enqueue_many

        def restore() -> None:
            Queue.enqueue_job = original_job
            Queue.enqueue_many = original_many

        cls._undo.append(restore)


#: The list of the innermost :func:`record_tasks` block running in this context: what
#: ``flask_testcase.asserts.assertTaskEnqueued`` reads.
_RECORDING: contextvars.ContextVar[list[EnqueuedTask] | None] = contextvars.ContextVar(
    "flask_testcase_tasks", default=None
)


def current_tasks() -> list[EnqueuedTask] | None:
    """The tasks of the innermost :func:`record_tasks` block running in this context
    (a ``TestCase`` test's, or the pytest plugin's), or ``None``."""
    return _RECORDING.get()


@contextlib.contextmanager
def record_tasks() -> Iterator[list[EnqueuedTask]]:
    """Record every Celery task and RQ job enqueued while the block runs, in any
    thread, in order (see :class:`EnqueuedTask`)::

        with record_tasks() as tasks:
            client.post("/signup", data={"email": "ada@example.com"})
        assert_task_enqueued(tasks, "myapp.tasks.send_welcome", args=("ada@example.com",))

    Celery or RQ must be imported before the block (the app imports it). Nothing is
    recorded for a library imported only inside it.
    """
    tasks: list[EnqueuedTask] = []
    TaskRecording.add(tasks)
    undo = set_until_undone(_RECORDING, tasks)
    try:
        yield tasks
    finally:
        undo()
        TaskRecording.remove(tasks)


_UNSET: t.Any = object()


def _find(
    tasks: Sequence[EnqueuedTask], name: str, args: t.Any, kwargs: t.Any, caller: str
) -> tuple[EnqueuedTask | None, str]:
    if not isinstance(name, str):
        raise TypeError(f"{caller}(name) must be a task name (a str), got {name!r}.")
    if args is not _UNSET and not isinstance(args, (tuple, list)):
        raise TypeError(f"{caller}(args=...) must be a tuple or list, got {args!r}.")
    if kwargs is not _UNSET and not isinstance(kwargs, dict):
        raise TypeError(f"{caller}(kwargs=...) must be a dict, got {kwargs!r}.")
    for task in tasks:
        if (
            task.name == name
            and (args is _UNSET or task.args == tuple(args))
            and (kwargs is _UNSET or task.kwargs == kwargs)
        ):
            return task, ""
    wanted = [repr(name)]
    if args is not _UNSET:
        wanted.append(f"with args {tuple(args)!r}")
    if kwargs is not _UNSET:
        wanted.append(f"with kwargs {kwargs!r}")
    return None, f"No task {' '.join(wanted)} was enqueued. {describe(tasks)}"


def describe(tasks: Sequence[EnqueuedTask]) -> str:
    """What was enqueued, for failure messages."""
    if not tasks:
        return "No task was enqueued."
    lines = "\n".join(f"  {i}. {task}" for i, task in enumerate(tasks, 1))
    return f"Enqueued ({len(tasks)}):\n{lines}"


def assert_task_enqueued(
    tasks: Sequence[EnqueuedTask],
    name: str,
    args: tuple[t.Any, ...] | list[t.Any] = _UNSET,
    kwargs: dict[str, t.Any] = _UNSET,
    msg: str | None = None,
) -> EnqueuedTask:
    """Fail unless ``tasks`` holds a task named ``name`` (with exactly ``args`` and
    ``kwargs``, when given); return the first such task. The failure lists every task
    enqueued, with its arguments.

    :param tasks: the list :func:`record_tasks` yields (the ``tasks`` fixture,
        :attr:`TestCase.tasks <flask_testcase.TestCase.tasks>`).
    :param name: the task's name (Celery) or its function's dotted name (RQ).
    :param args: its positional arguments.
    :param kwargs: its keyword arguments.
    :param msg: added to the failure message.
    """
    __tracebackhide__ = True  # pytest: show the test's line, not this one
    found, standard = _find(tasks, name, args, kwargs, "assert_task_enqueued")
    if found is None:
        raise AssertionError(standard if msg is None else f"{standard} : {msg}")
    return found


class TasksMixin(AssertionBase):
    """Task features of :class:`~flask_testcase.TestCase`: the tasks enqueued during the
    test (recorded when the app has imported Celery or RQ: the environment's tasks
    step) and :meth:`assertTaskEnqueued`."""

    @property
    def _tasks(self) -> list[EnqueuedTask] | None:
        return None

    @property
    def tasks(self) -> list[EnqueuedTask]:
        """Every Celery task and RQ job enqueued during the test, in order (see
        :class:`EnqueuedTask`).

        :raises RuntimeError: neither Celery nor RQ was imported when the test began.
        """
        tasks = self._tasks
        if tasks is None:
            raise RuntimeError(
                "tasks are recorded for an app that uses Celery or RQ, and neither was"
                " imported when the test began: import the app's tasks module (or celery,"
                " rq) at the top of the test module."
            )
        return tasks

    @assertion
    def assertTaskEnqueued(
        self,
        name: str,
        args: tuple[t.Any, ...] | list[t.Any] = _UNSET,
        kwargs: dict[str, t.Any] = _UNSET,
        msg: str | None = None,
    ) -> EnqueuedTask:
        """Fail unless a task named ``name`` (with exactly ``args`` and ``kwargs``, when
        given) was enqueued during this test; return it. The failure lists every task
        enqueued, with its arguments.

        :param name: the task's name (Celery) or its function's dotted name (RQ).
        :param args: its positional arguments.
        :param kwargs: its keyword arguments.
        :param msg: added to the standard failure message.
        """
        found, standard = _find(self.tasks, name, args, kwargs, "assertTaskEnqueued")
        if found is None:
            self._fail_with(standard, msg)
        return found
