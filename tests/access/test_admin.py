"""The admin shows the gates and their audit trail, changes none of it, and never a credential."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories.access import AccessEventFactory, GateDeviceFactory, UsageSessionFactory


def test_a_gate_in_the_admin_shows_no_secret_or_password_hash(admin_client, db):
    device = GateDeviceFactory()
    page = admin_client.get(reverse("admin:access_gatedevice_change", args=[device.pk]))
    assert page.status_code == 200 and device.device_id in page.content.decode()
    assert device.secret not in page.content.decode()
    assert device.mqtt_password_hash not in page.content.decode()
    listing = admin_client.get(reverse("admin:access_gatedevice_changelist")).content.decode()
    assert device.device_id in listing and device.secret not in listing


@pytest.mark.parametrize("model", ["accessevent", "usagesession", "gatemessage", "gatechange"])
def test_the_audit_trail_is_read_only(admin_client, db, model):
    assert admin_client.get(reverse(f"admin:access_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:access_{model}_add")).status_code == 403


def test_an_access_event_cannot_be_changed_or_deleted(admin_client, db):
    event = AccessEventFactory()
    session = UsageSessionFactory()
    for model, pk in (("accessevent", event.pk), ("usagesession", session.pk)):
        change = reverse(f"admin:access_{model}_change", args=[pk])
        assert "Save" not in admin_client.get(change).content.decode()
        assert admin_client.post(change, {}).status_code == 403
        delete = reverse(f"admin:access_{model}_delete", args=[pk])
        assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert event.__class__.objects.filter(pk=event.pk).exists()
