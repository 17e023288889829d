"""The task runner's wiring: every task the site queues or beat schedules is one the worker
loads, a broker out of reach fails no request, and staff see failed tasks."""

from __future__ import annotations

import importlib
import json
import logging
import os
import pkgutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery import Celery, states
from django.conf import settings as django_settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_celery_results.models import TaskResult
from kombu import serialization

from config.celery import app as site_app
from core.models import StrandedTask
from core.tasks import queue_stranded_tasks
from membership.billing.emails import billing_email_send
from tests.access.mosquitto import free_port
from tests.core.test_task_workers import _book

APPS = ["core", "membership", "training", "equipment", "bookings", "access"]


def _tasks_defined_in_the_apps() -> set[str]:
    """Every task any app module defines (all of them imported here, as no worker would)."""
    for package in APPS:
        module = importlib.import_module(package)
        for found in pkgutil.walk_packages(module.__path__, f"{package}."):
            if ".migrations" not in found.name and ".management" not in found.name:
                importlib.import_module(found.name)
    return {name for name in site_app.tasks if name.split(".")[0] in APPS}


def _tasks_a_worker_loads() -> set[str]:
    """What `celery -A config worker` registers, found in a fresh interpreter."""
    code = (
        "import json; from config.celery import app; app.loader.import_default_modules(); "
        "print(json.dumps(sorted(app.tasks)))"
    )
    output = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code],
        cwd=django_settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(json.loads(output.splitlines()[-1]))


def test_the_worker_loads_every_task_of_the_apps_and_of_beats_schedule():
    """A task the worker does not know would be received and dropped as unregistered."""
    loaded = _tasks_a_worker_loads()
    assert _tasks_defined_in_the_apps() <= loaded
    scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= loaded
    assert {
        "bookings.tasks.bookings_tick",
        "membership.tasks.lapse_memberships",
        "training.tasks.send_training_reminders",
        "membership.tasks.reconcile_billing",
        "bookings.tasks.extend_class_series",
        "core.tasks.prune_form_tokens",
    } <= scheduled


@contextmanager
def site_tasks_on(broker_url: str):
    """The site queues its tasks to `broker_url` (no eager running) while this lasts."""
    app = Celery("toolgate-test")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url=broker_url,
        broker_transport=None,  # the settings name the embedded broker's; this one is the URL's
        broker_transport_options={},
        task_always_eager=False,
    )
    app.set_current()
    try:
        yield app
    finally:
        app.close()
        site_app.set_current()


@pytest.mark.django_db(transaction=True)
def test_a_broker_out_of_reach_fails_no_request_and_no_other_after_commit_work(caplog):
    """The booking commits, work after the email's still runs, and the lost email is logged as
    an error."""
    after = []
    with (
        site_tasks_on(f"amqp://guest:guest@127.0.0.1:{free_port()}//"),
        caplog.at_level(logging.ERROR, logger="core.tasks"),
        transaction.atomic(),
    ):
        booking = _book()
        transaction.on_commit(lambda: after.append("ran"))
    assert after == ["ran"]
    booking.refresh_from_db()
    assert "Could not queue bookings.notifications.send_confirmation" in caplog.text
    assert "the task broker (TASK_BROKER_URL) is unreachable. Kept" in caplog.text


def _stranded_confirmations() -> list[StrandedTask]:
    return list(StrandedTask.objects.filter(task="bookings.notifications.send_confirmation"))


@pytest.mark.django_db(transaction=True)
def test_a_task_the_broker_refused_is_kept_and_queued_again_once_it_answers(
    mailoutbox, staff_client
):
    down = f"amqp://guest:guest@127.0.0.1:{free_port()}//"
    with site_tasks_on(down), transaction.atomic():
        booking = _book()
    (stranded,) = _stranded_confirmations()
    assert stranded.attempts == 1 and "OperationalError" in stranded.last_error
    page = staff_client.get(reverse("background_tasks")).content.decode()
    assert f'data-stranded="{stranded.pk}"' in page and "Waiting for the task broker" in page

    with site_tasks_on(down):
        assert queue_stranded_tasks() == 0  # still down: kept, one more try counted
    (stranded,) = _stranded_confirmations()
    assert stranded.attempts == 2 and mailoutbox == []

    StrandedTask.objects.exclude(pk=stranded.pk).delete()  # the booking's other tasks
    assert queue_stranded_tasks() == 1  # the broker answers (the tests' eager runner)
    (email,) = mailoutbox
    assert email.subject.endswith(f"Booked: {booking.machine.name}")
    assert not StrandedTask.objects.exists()
    assert queue_stranded_tasks() == 0  # handed over once


@pytest.mark.django_db
def test_a_stranded_tasks_dates_come_back_as_dates():
    """Arguments are kept as Celery sends them: a billing email's `ends_at` stays a datetime."""
    ends_at = timezone.now().replace(microsecond=0)
    with site_tasks_on(f"amqp://guest:guest@127.0.0.1:{free_port()}//"):
        billing_email_send._queue(
            (), {"kind": "membership_ending", "membership_id": 1, "ends_at": ends_at}
        )
    stranded = StrandedTask.objects.get()
    args, kwargs = serialization.loads(
        stranded.payload, stranded.content_type, stranded.content_encoding
    )
    assert (args, kwargs["ends_at"]) == ([], ends_at)


def test_the_embedded_broker_makes_its_folders_when_the_site_first_configures_it(tmp_path):
    """`make run` needs no set-up step: the filesystem transport's folders appear on first use."""
    queue = tmp_path / "tasks" / "queue"
    code = "from config.celery import app; print(app.conf.broker_url)"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        "TASK_BROKER_URL": "filesystem://",
        "TASK_STATE_DIR": str(tmp_path / "tasks"),
    }
    output = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert output.strip() == "filesystem://"
    assert queue.is_dir() and (tmp_path / "tasks" / "control").is_dir()
    assert Path(django_settings.BASE_DIR, ".gitignore").read_text().count("/var/") == 1


@pytest.fixture
def failed_email(db) -> TaskResult:
    return TaskResult.objects.create(
        task_id="0f0e0d0c-0000-4000-8000-000000000001",
        task_name="bookings.notifications.send_confirmation",
        task_args=json.dumps("(7,)"),
        task_kwargs=json.dumps("{}"),
        status=states.FAILURE,
        result=json.dumps(
            {
                "exc_type": "SMTPRecipientsRefused",
                "exc_message": ["{'maya@example.org': (554, b'refused')}"],
                "exc_module": "smtplib",
            }
        ),
        traceback="Traceback (most recent call last):\nsmtplib.SMTPRecipientsRefused: ...",
    )


def test_staff_see_failed_tasks_and_when_each_periodic_job_last_ran(staff_client, failed_email):
    TaskResult.objects.create(
        task_id="0f0e0d0c-0000-4000-8000-000000000002",
        task_name="bookings.tasks.bookings_tick",
        status=states.SUCCESS,
        result=json.dumps({"no_shows": 1, "completed": 0, "reminders": 0}),
    )
    page = staff_client.get(reverse("background_tasks"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-task="0f0e0d0c-0000-4000-8000-000000000001"' in html
    assert "SMTPRecipientsRefused: {&#x27;maya@example.org&#x27;" in html
    assert "<code>(7,)</code>" in html
    assert "bookings-tick" in html and "not yet" in html  # the tick ran, the others have not
    assert f'href="{reverse("background_tasks")}"' in html  # in the staff navigation


def test_background_tasks_are_for_staff_only(member_client, failed_email):
    assert member_client.get(reverse("background_tasks")).status_code == 403
    page = member_client.get(reverse("dashboard")).content.decode()
    assert reverse("background_tasks") not in page
