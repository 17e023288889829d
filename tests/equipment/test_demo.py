"""The demo sells day passes: one for Laser cutter A, one for every 3D printer."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from equipment.models import DayPassProduct
from membership.models import Member


@pytest.mark.django_db
def test_the_demo_has_day_pass_products_on_the_billing_page(client):
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)  # safe to run again
    laser = DayPassProduct.objects.get(name="Laser day pass")
    assert list(laser.machines.values_list("slug", flat=True)) == ["laser-a"]
    printing = DayPassProduct.objects.get(name="3D printing day pass")
    assert list(printing.certifications.values_list("slug", flat=True)) == ["3d-printer"]
    maker = Member.objects.get(user__email="maker@toolgate.test")
    client.force_login(maker.user)
    page = client.get(reverse("membership_billing")).content.decode()
    assert "Laser day pass" in page and "every machine needing 3D printer" in page
    assert "Buy one at the front desk." in page  # the demo bills by hand
