"""Deliveries to a real receiving server: signed per Standard Webhooks (checked with the reference
library), retried with backoff until they succeed, in order per endpoint, the endpoint disabled
after a day of failures."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from django.core import mail
from standardwebhooks import Webhook, WebhookVerificationError

from core import events
from tests.factories.equipment import MachineFactory
from tests.factories.membership import UserFactory
from tests.factories.webhooks import EndpointFactory
from tests.webhooks.conftest import NOW
from webhooks import services
from webhooks.emails import endpoint_disabled_email
from webhooks.models import Delivery, DeliveryAttempt, DeliveryState, Endpoint, PayloadFormat
from webhooks.tasks import webhooks_sweep


@pytest.fixture
def emit(django_capture_on_commit_callbacks):
    """Emit an event about a machine the way a service does, and commit (the task runner runs
    the delivery at the commit)."""

    def emit(kind: str = events.MACHINE_OUT_OF_SERVICE, **machine):
        subject = MachineFactory(state="out_of_service", state_reason="Tube replaced", **machine)
        with django_capture_on_commit_callbacks(execute=True):
            events.emit(kind, subject)
        return subject

    return emit


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    def sweep():
        with django_capture_on_commit_callbacks(execute=True):
            return webhooks_sweep()

    return sweep


def _retry_when_due(frozen, sweep) -> None:
    """Move the clock to the head delivery's next attempt and run the periodic sweep."""
    head = Delivery.objects.filter(state=DeliveryState.PENDING).order_by("pk").first()
    frozen.move_to(head.next_attempt_at)
    sweep()


def test_delivery_is_signed_per_standard_webhooks(frozen, endpoint, receiver, emit):
    """The reference library verifies the signature of what the receiver got, and the payload
    says what happened."""
    emit(name="Laser cutter")
    (got,) = receiver.received
    payload = Webhook(endpoint.secret).verify(got.body, got.headers)
    assert payload["type"] == "machine.out_of_service"
    assert payload["data"]["machine"]["name"] == "Laser cutter"
    assert payload["data"]["machine"]["reason"] == "Tube replaced"
    assert got.headers["webhook-id"].startswith("msg_")
    assert got.headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    assert got.headers["content-type"] == "application/json"
    assert endpoint.secret.startswith("whsec_")


def test_tampered_body_or_other_secret_fails_verification(frozen, endpoint, receiver, emit):
    """The signature covers the body and depends on the endpoint's own secret."""
    emit()
    (got,) = receiver.received
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(got.body.replace(b"Tube", b"Fake"), got.headers)
    other = EndpointFactory.build().secret
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(got.body, got.headers)


def test_fails_three_times_then_gets_the_event_exactly_once_more(
    frozen, endpoint, receiver, emit, sweep
):
    """500, 500, 503, then 200: four tries of the same message, backing off 30 s, 60 s, 120 s;
    delivered once, and never again however long the sweeps go on."""
    receiver.statuses = [500, 500, 503]
    emit()
    for _ in range(3):
        _retry_when_due(frozen, sweep)
    assert [r.answered for r in receiver.received] == [500, 500, 503, 200]
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    attempts = [a.at for a in DeliveryAttempt.objects.order_by("pk")]
    assert [b - a for a, b in itertools.pairwise(attempts)] == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=120),
    ]
    for _ in range(5):
        frozen.shift(timedelta(hours=1))
        sweep()
    assert len(receiver.delivered) == 1 and len(receiver.received) == 4
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.DELIVERED and delivery.attempts == 4
    assert Endpoint.objects.get().failing_since is None


def test_events_for_one_endpoint_arrive_in_order(frozen, endpoint, receiver, emit, sweep):
    """The second event fails once: the later ones wait behind it, then all arrive in order."""
    receiver.statuses = [200, 500]
    names = [f"Machine {n}" for n in range(5)]
    for name in names:
        emit(name=name)
    assert [r.answered for r in receiver.received] == [200, 500]
    _retry_when_due(frozen, sweep)
    arrived = [json.loads(r.body)["data"]["machine"]["name"] for r in receiver.delivered]
    assert arrived == names


def test_endpoint_disabled_after_a_day_of_failures_and_staff_emailed(
    frozen, endpoint, receiver, emit, sweep, staff_user
):
    """Every try fails for a day: the endpoint is disabled, staff get an email, nothing more is
    sent; enabled again, the kept event goes."""
    receiver.statuses = [500] * 1000
    emit()
    started = NOW
    while Endpoint.objects.get().is_active:
        _retry_when_due(frozen, sweep)
        assert frozen_now() - started <= timedelta(hours=25)
    disabled = Endpoint.objects.get()
    assert disabled.disabled_at - started >= timedelta(hours=24)
    assert "failed for 24 hours" in disabled.disabled_reason
    (email,) = mail.outbox
    assert email.to == [staff_user.email]
    assert disabled.name in email.subject and "enable the endpoint" in email.body
    tries = len(receiver.received)
    frozen.shift(timedelta(hours=2))
    sweep()
    assert len(receiver.received) == tries
    receiver.statuses = []
    services.endpoint_enable(endpoint=disabled)
    sweep()
    assert len(receiver.delivered) == 1
    assert Delivery.objects.get().state == DeliveryState.DELIVERED


def frozen_now():
    from core import clock

    return clock.now()


def test_delivery_whose_task_was_lost_is_sent_by_the_sweep(frozen, endpoint, receiver, sweep):
    """The process died after the commit, before the task reached the broker: the delivery row
    is there, and the periodic sweep sends it."""
    events.emit(events.MACHINE_OUT_OF_SERVICE, MachineFactory(state="out_of_service"))
    assert receiver.received == []  # no commit callback ran
    sweep()
    assert len(receiver.delivered) == 1


def test_rolled_back_change_sends_nothing(frozen, endpoint, receiver, sweep):
    """The delivery is written in the change's transaction: rolled back, it never existed."""
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        events.emit(events.MACHINE_OUT_OF_SERVICE, MachineFactory(state="out_of_service"))
        raise RuntimeError("the change fails")
    sweep()
    assert receiver.received == [] and not Delivery.objects.exists()


def test_private_address_refused_at_delivery_in_production(
    frozen, endpoint, receiver, emit, settings
):
    """An endpoint whose host now resolves to a private address (DNS changed since it was
    registered) gets no connection; the attempt is logged with why."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    Endpoint.objects.filter(pk=endpoint.pk).update(url=receiver.url.replace("http:", "https:"))
    emit()
    assert receiver.received == []
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code is None
    assert "loopback or private" in attempt.error


def test_unsubscribed_and_disabled_endpoints_get_nothing(db, frozen, receiver, emit):
    EndpointFactory(url=receiver.url, event_types=["booking.created"])
    EndpointFactory(url=receiver.url, is_active=False)
    emit()
    assert receiver.received == [] and not Delivery.objects.exists()


def test_chat_mode_sends_a_slack_and_discord_message(db, frozen, receiver, emit):
    """A chat endpoint gets one sentence, as Slack ("text") and Discord ("content") read it."""
    EndpointFactory(url=receiver.url, payload_format=PayloadFormat.CHAT)
    emit(name="Laser cutter")
    body = json.loads(receiver.received[0].body)
    assert body == {
        "text": "Laser cutter is out of service: Tube replaced",
        "content": "Laser cutter is out of service: Tube replaced",
    }


def test_send_test_event(frozen, endpoint, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.endpoint_send_test(endpoint=endpoint)
    payload = Webhook(endpoint.secret).verify(
        receiver.received[0].body, receiver.received[0].headers
    )
    assert payload["type"] == "webhook.test"


def test_delivery_log_keeps_status_time_and_excerpt(frozen, endpoint, receiver, emit):
    receiver.statuses = [503]
    emit()
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code == 503
    assert attempt.response_excerpt == "receiver is down for now"
    assert attempt.response_ms >= 0
    assert "503" in attempt.error


def test_one_sender_per_endpoint_and_a_dead_senders_lease_runs_out(
    frozen, endpoint, receiver, emit, sweep
):
    """While another worker holds the endpoint, a second one sends nothing (order, no doubles);
    a worker that died holding it delays its deliveries only until the lease runs out."""
    Endpoint.objects.filter(pk=endpoint.pk).update(
        lease_until=NOW + timedelta(minutes=1), lease_owner="a-worker-that-died"
    )
    emit()
    sweep()
    assert receiver.received == []
    frozen.shift(timedelta(minutes=1, seconds=1))
    sweep()
    assert len(receiver.delivered) == 1 and len(receiver.received) == 1


def test_the_disabled_endpoint_email_goes_to_each_reader_in_their_language(db, staff_user):
    """One message per language among the staff who manage webhooks."""
    UserFactory(role="Staff", email="minji@example.org", language="ko")
    endpoint = EndpointFactory(
        name="Slack", is_active=False, disabled_reason="Every delivery failed for 24 hours (500)."
    )
    assert endpoint_disabled_email(endpoint.pk) == 2
    by_reader = {tuple(email.to): email for email in mail.outbox}
    korean, english = by_reader["minji@example.org",], by_reader[staff_user.email,]
    assert "Slack" in korean.subject and "사용 중지" in korean.subject
    assert "다시 사용하도록" in korean.body and "enable the endpoint" not in korean.body
    assert "Webhook endpoint disabled: Slack" in english.subject
    assert "enable the endpoint" in english.body
