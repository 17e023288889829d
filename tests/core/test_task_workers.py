"""Emails through a real Celery worker: a mail server that refuses is retried and the task ends
up failed where staff see it, the booking untouched; and the same worker over real Redis and
RabbitMQ (marked `taskbroker`, skipped when the service is not running here)."""

from __future__ import annotations

import json
import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from celery import Celery, signals, states
from celery.contrib.testing.worker import start_worker, test_worker_started
from django.conf import settings as django_settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_celery_results.models import TaskResult

from bookings import notifications
from bookings.models import Booking, BookingState
from bookings.services import booking_create
from config.celery import app as site_app
from equipment import services as equipment_services
from tests.access.mosquitto import free_port
from tests.factories.equipment import MachineFactory, certification, certify
from tests.factories.membership import ready_member

pytestmark = pytest.mark.django_db(transaction=True)
DEADLINE = 30.0
CONFIRMATION = "bookings.notifications.send_confirmation"

REDIS, RABBITMQ = ("127.0.0.1", 6379), ("127.0.0.1", 5672)
BROKERS = [
    pytest.param("filesystem://", id="embedded"),  # what `make run` uses
    pytest.param("redis://127.0.0.1:6379/0", id="redis", marks=pytest.mark.taskbroker),
    pytest.param(
        "amqp://guest:guest@127.0.0.1:5672//", id="rabbitmq", marks=pytest.mark.taskbroker
    ),
]


def _listening(address: tuple[str, int]) -> bool:
    try:
        socket.create_connection(address, timeout=0.5).close()
    except OSError:
        return False
    return True


@contextmanager
def running_worker(broker_url: str, folder: Path) -> Iterator[Celery]:
    """A real worker in this process, on `broker_url` and a queue of its own (the embedded
    broker's files in `folder`), results in the database as in production; the site's tasks are
    queued to it while it runs."""
    for address in (REDIS, RABBITMQ):
        if f":{address[1]}/" in broker_url and not _listening(address):
            pytest.skip(f"no broker listens on {address[0]}:{address[1]}")
    app = Celery("toolgate-test")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    queue = f"toolgate-test-{uuid.uuid4().hex[:8]}"
    transport_options = {}
    if broker_url.startswith("filesystem://"):
        transport_options = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
            "polling_interval": 0.1,
        }
        for option in ("data_folder_in", "control_folder"):
            Path(transport_options[option]).mkdir()
    app.conf.update(
        broker_url=broker_url,
        # the site's settings name the embedded broker's transport; the others take the URL's
        broker_transport=django_settings.CELERY_BROKER_TRANSPORT if transport_options else None,
        broker_transport_options=transport_options,
        task_always_eager=False,
        task_default_queue=queue,
        worker_hijack_root_logger=False,  # pytest's log capture stays in place
    )
    test_worker_started.connect(_wake_often, sender=app)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=DEADLINE):
            yield app
    finally:
        test_worker_started.disconnect(_wake_often, sender=app)
        if not broker_url.startswith("filesystem://"):
            with app.connection_for_write() as connection:
                connection.default_channel.queue_delete(queue)
        app.close()
        site_app.set_current()
        site_app.set_default()


def _wake_often(sender, worker, consumer, **kwargs) -> None:
    """Over Redis and RabbitMQ the worker's event loop sleeps up to 10 s when idle, and notices
    the test's stop only then: a timer wakes it every 0.1 s (called in the worker's thread)."""
    if consumer.hub is not None:
        consumer.hub.call_repeatedly(0.1, lambda: None)


class MailServer:
    """A real SMTP server on a free loopback port that refuses every recipient `refusals`
    times, then accepts."""

    def __init__(self, *, refusals: int) -> None:
        self.refusals, self.attempts, self.delivered = refusals, 0, []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.attempts += 1
        if self.attempts <= self.refusals:
            return "554 5.7.1 Refused by the test server"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.delivered.append(envelope.rcpt_tos)
        return "250 Message accepted"


@pytest.fixture
def smtp(settings):
    """Start a MailServer; the site sends through it with Django's SMTP backend."""
    controllers = []

    def start(*, refusals: int) -> MailServer:
        server = MailServer(refusals=refusals)
        controller = Controller(server, hostname="127.0.0.1", port=free_port())
        controller.start()
        controllers.append(controller)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
        return server

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def task_errors() -> Iterator[list[str]]:
    """Errors core.tasks logs. A handler on that logger itself: a starting worker sets Django
    up again, and Django's logging setup replaces the root logger's handlers (pytest's too)."""
    records: list[str] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = lambda record: records.append(record.getMessage())
    logger = logging.getLogger("core.tasks")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


@pytest.fixture
def ended() -> Iterator[dict]:
    """Events set when the worker finishes the confirmation task: "success" or "failure"; and
    the retries it scheduled meanwhile, under "retries"."""
    events = {"success": threading.Event(), "failure": threading.Event(), "retries": []}

    def on_success(sender, **kwargs) -> None:
        if sender.name == CONFIRMATION:
            events["success"].set()

    def on_failure(sender, **kwargs) -> None:
        if sender.name == CONFIRMATION:
            events["failure"].set()

    def on_retry(sender, request, **kwargs) -> None:
        if sender.name == CONFIRMATION:
            events["retries"].append(request.retries)

    signals.task_success.connect(on_success, weak=False)
    signals.task_failure.connect(on_failure, weak=False)
    signals.task_retry.connect(on_retry, weak=False)
    yield events
    signals.task_success.disconnect(on_success)
    signals.task_failure.disconnect(on_failure)
    signals.task_retry.disconnect(on_retry)


def _book() -> Booking:
    """A member books a machine open around the clock, tomorrow 10:00 to 11:00, through the
    real service (which queues the confirmation email at commit)."""
    laser = certification("Laser cutter")
    machine = MachineFactory(required_certification=laser)
    equipment_services.opening_hours_add(
        machine=machine, weekdays=list(range(7)), opens=time(0), closes=time(0)
    )
    member = ready_member()
    certify(member, laser)
    day = timezone.localdate() + timedelta(days=1)
    start = datetime.combine(day, time(10), tzinfo=timezone.get_current_timezone())
    return booking_create(
        member=member, machine=machine, start=start, end=start + timedelta(hours=1)
    )


@pytest.mark.parametrize("broker_url", BROKERS)
def test_a_refusing_mail_server_is_retried_then_shown_failed_and_the_booking_stands(
    broker_url, tmp_path, smtp, ended, settings, task_errors, client, staff_user
):
    """Every try is refused: the task is retried TASK_EMAIL_MAX_RETRIES times, then recorded as
    failed with its traceback, logged as an error and listed on Background tasks; the booking is
    confirmed all along."""
    server = smtp(refusals=100)
    with running_worker(broker_url, tmp_path):
        booking = _book()
        assert ended["failure"].wait(DEADLINE), "the email task never gave up"
    tries = settings.TASK_EMAIL_MAX_RETRIES + 1
    assert ended["retries"] == list(range(settings.TASK_EMAIL_MAX_RETRIES))
    assert server.attempts == tries and server.delivered == []
    result = TaskResult.objects.get(task_name=CONFIRMATION)
    assert result.status == states.FAILURE
    assert "SMTPRecipientsRefused" in result.traceback
    assert json.loads(result.task_args) == repr((booking.pk,))
    assert [f"failed for good after {tries} tries" in error for error in task_errors] == [True]
    booking.refresh_from_db()
    assert booking.state == BookingState.CONFIRMED

    client.force_login(staff_user)
    page = client.get(reverse("background_tasks")).content.decode()
    assert f'data-task="{result.task_id}"' in page
    assert "SMTPRecipientsRefused" in page and ">Failed<" in page
    assert f"<code>({booking.pk},)</code>" in page


def test_no_mail_server_at_all_is_retried_then_shown_failed(tmp_path, ended, settings):
    """Nothing listens on the mail port (connection refused): retried, then failed."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    with running_worker("filesystem://", tmp_path):
        booking = _book()
        assert ended["failure"].wait(DEADLINE), "the email task never gave up"
    assert len(ended["retries"]) == settings.TASK_EMAIL_MAX_RETRIES
    result = TaskResult.objects.get(task_name=CONFIRMATION)
    assert result.status == states.FAILURE and "ConnectionRefusedError" in result.traceback
    booking.refresh_from_db()
    assert booking.state == BookingState.CONFIRMED


def test_a_mail_server_that_recovers_gets_the_email_once(tmp_path, smtp, ended):
    """Refused once, accepted on the retry: delivered once and recorded as a success."""
    server = smtp(refusals=1)
    with running_worker("filesystem://", tmp_path):
        booking = _book()
        assert ended["success"].wait(DEADLINE), "the email task never succeeded"
    assert ended["retries"] == [0]
    assert server.delivered == [[booking.member.user.email]]
    assert TaskResult.objects.get(task_name=CONFIRMATION).status == states.SUCCESS


@pytest.mark.taskbroker
@pytest.mark.parametrize("broker_url", [p for p in BROKERS if p.id != "embedded"])
def test_a_real_broker_carries_a_task_to_the_worker_and_its_result_back(broker_url, tmp_path):
    """Over Redis or RabbitMQ: the site queues a confirmation, the worker sends it, and the
    caller gets the outcome back (waiting on the result, not on a clock)."""
    booking = _book()  # no worker yet: the site's eager test setting sends this one at once
    mail.outbox.clear()
    with running_worker(broker_url, tmp_path):
        result = notifications.send_confirmation.delay(booking.pk)
        assert result.get(timeout=DEADLINE) is None
    assert result.state == states.SUCCESS
    assert [message.to for message in mail.outbox] == [[booking.member.user.email]]
