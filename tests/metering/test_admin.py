"""Usage charges in the admin: listed and searchable, never added, changed or deleted there."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from metering.models import UsageCharge
from metering.services import usage_charges_post

LA = ZoneInfo("America/Los_Angeles")


@pytest.mark.django_db
def test_usage_charges_are_a_read_only_log(admin_client, gate_session):
    gate_session(datetime(2026, 10, 2, 18, tzinfo=LA), 1)
    usage_charges_post(now=datetime(2026, 11, 1, tzinfo=LA))
    charge = UsageCharge.objects.get()
    listing = admin_client.get(reverse("admin:metering_usagecharge_changelist"), {"q": "laser"})
    assert listing.status_code == 200
    assert "Laser cutter" in listing.content.decode()
    assert admin_client.get(reverse("admin:metering_usagecharge_add")).status_code == 403
    page = admin_client.get(reverse("admin:metering_usagecharge_change", args=[charge.pk]))
    assert 'type="submit" value="Save"' not in page.content.decode()
