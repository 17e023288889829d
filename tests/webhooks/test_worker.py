"""Webhooks through a real Celery worker (the embedded broker, as `make run` has it): a receiver
that fails twice gets the event on the third try, each retry scheduled by the worker at its
backoff time (real seconds here)."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from core import events
from tests.core.test_task_workers import running_worker
from tests.factories.equipment import MachineFactory
from tests.factories.webhooks import EndpointFactory
from webhooks.models import Delivery, DeliveryState

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_real_worker_retries_with_backoff_until_delivered(settings, tmp_path, receiver):
    settings.WEBHOOK_RETRY_BACKOFF_SECONDS = 1
    receiver.statuses = [500, 502]
    EndpointFactory(url=receiver.url)
    with running_worker("filesystem://", tmp_path):
        with transaction.atomic():
            events.emit(events.MACHINE_OUT_OF_SERVICE, MachineFactory(state="out_of_service"))
        deadline = time.monotonic() + 30
        while not receiver.delivered and time.monotonic() < deadline:
            time.sleep(0.1)
    assert [r.answered for r in receiver.received] == [500, 502, 200]
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.DELIVERED and delivery.attempts == 3
