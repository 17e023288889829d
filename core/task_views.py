"""Background tasks, for staff: which emails and jobs failed or are being retried, and when each
periodic job last ran, so that nothing the task runner does fails unseen (docs/tasks.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from celery import states
from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_celery_results.models import TaskResult

from core.models import StrandedTask

SHOWN = 100


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: str
    last: TaskResult | None


@dataclass(frozen=True)
class Trouble:
    """A failed or retrying task: `error` is its exception in one line."""

    result: TaskResult
    error: str

    @property
    def retrying(self) -> bool:
        return self.result.status == states.RETRY

    @property
    def at(self) -> datetime:
        return self.result.date_done or self.result.date_created

    @property
    def arguments(self) -> str:
        """The task's arguments as the worker got them, e.g. `(42,)`, `{'kind': 'welcome'}`."""
        shown = [_decoded(self.result.task_args), _decoded(self.result.task_kwargs)]
        return " ".join(part for part in shown if part not in ("", "()", "{}"))


def tasks_in_trouble(*, limit: int = SHOWN) -> list[Trouble]:
    """Failed and retrying tasks, newest first (kept for CELERY_RESULT_EXPIRES)."""
    results = TaskResult.objects.filter(status__in=[states.FAILURE, states.RETRY]).order_by(
        "-date_done", "-pk"
    )[:limit]
    return [Trouble(result, _error(result.result)) for result in results]


def periodic_jobs() -> list[PeriodicJob]:
    """Every job of beat's schedule with its latest recorded run (None: not run yet)."""
    return [
        PeriodicJob(
            name=name,
            task=entry["task"],
            last=TaskResult.objects.filter(task_name=entry["task"]).order_by("-date_done").first(),
        )
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
    ]


def _decoded(stored: str | None) -> str:
    """Extended results store the arguments' repr as a JSON string."""
    try:
        decoded = json.loads(stored or "")
    except ValueError:
        return stored or ""
    return decoded if isinstance(decoded, str) else stored


def _error(stored: str | None) -> str:
    """The backend stores an exception as JSON: {"exc_type": ..., "exc_message": [...]}."""
    try:
        error = json.loads(stored or "")
        message = error["exc_message"]
    except (ValueError, TypeError, KeyError):
        return stored or ""
    if isinstance(message, list | tuple):
        message = " ".join(str(part) for part in message)
    return f"{error.get('exc_type', 'Error')}: {message}"


@require_GET
@login_required
@permission_required("django_celery_results.view_taskresult", raise_exception=True)
def background_tasks(request):
    return render(
        request,
        "core/background_tasks.html",
        {
            "stranded": StrandedTask.objects.order_by("stranded_at", "pk")[:SHOWN],
            "troubles": tasks_in_trouble(),
            "jobs": periodic_jobs(),
            "shown": SHOWN,
        },
    )
