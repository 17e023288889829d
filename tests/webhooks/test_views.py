"""The staff pages of webhooks: register, see the log, send a test event, disable and enable."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from webhooks.models import Endpoint


def _post(client, view, *args, **data):
    return client.post(reverse(f"webhooks:{view}", args=args), {"form_token": uuid.uuid4(), **data})


def test_members_cannot_see_webhooks(member_client):
    assert member_client.get(reverse("webhooks:endpoint_list")).status_code == 403


def test_staff_register_an_endpoint_and_see_its_secret(staff_client, receiver):
    response = _post(
        staff_client,
        "endpoint_new",
        name="Door display",
        url=receiver.url,
        event_types=["usage.ended", "machine.out_of_service"],
        payload_format="chat",
    )
    endpoint = Endpoint.objects.get()
    assert response.status_code == 302
    assert endpoint.event_types == ["usage.ended", "machine.out_of_service"]
    page = staff_client.get(reverse("webhooks:endpoint_detail", args=[endpoint.pk]))
    assert endpoint.secret in page.content.decode()
    assert "Webhooks" in staff_client.get(reverse("webhooks:endpoint_list")).content.decode()


def test_a_private_url_is_refused_with_a_reason_in_production(staff_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    response = _post(
        staff_client,
        "endpoint_new",
        name="Sneaky",
        url="https://127.0.0.1:8000/admin/",
        event_types=["booking.created"],
        payload_format="standard",
    )
    assert response.status_code == 400
    assert "loopback or private" in response.content.decode()
    assert not Endpoint.objects.exists()


def test_send_test_event_shows_in_the_log(
    staff_client, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _post(staff_client, "endpoint_test", endpoint.pk)
    assert len(receiver.delivered) == 1
    page = staff_client.get(reverse("webhooks:endpoint_detail", args=[endpoint.pk])).content
    assert b"webhook.test" in page and b"Delivered" in page and b"200" in page


@pytest.mark.parametrize("action", ["endpoint_disable", "endpoint_enable"])
def test_disable_then_enable(staff_client, endpoint, action):
    _post(staff_client, "endpoint_disable", endpoint.pk, reason="Receiver moving")
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_reason == "Receiver moving"
    if action == "endpoint_enable":
        _post(staff_client, "endpoint_enable", endpoint.pk)
        endpoint.refresh_from_db()
        assert endpoint.is_active


def test_new_secret_and_delete(staff_client, endpoint):
    old = endpoint.secret
    _post(staff_client, "endpoint_new_secret", endpoint.pk)
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret.startswith("whsec_")
    response = _post(staff_client, "endpoint_delete", endpoint.pk)
    assert response.status_code == 302 and not Endpoint.objects.exists()
