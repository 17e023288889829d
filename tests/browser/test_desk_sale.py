"""Front-desk staff sell a sheet of acrylic to a member: stock down, money in the ledger."""

from __future__ import annotations

import pytest

from membership import roles
from membership.models import LedgerEntry, Material
from tests.factories.membership import PASSWORD, MaterialFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_sell_a_sheet_of_acrylic_for_cash(page, log_in, tmp_path):
    acrylic = MaterialFactory(stock=3)
    member = MembershipFactory(member__user__first_name="Maya").member
    staff = UserFactory(role=roles.STAFF)
    log_in(staff, PASSWORD)

    page.goto(f"/staff/members/{member.pk}/")
    sale = page.locator("[data-desk-sale]")
    sale.get_by_label("Material").select_option(label=str(acrylic))
    sale.get_by_label("Quantity").fill("1")
    sale.get_by_label("Paid by").select_option("cash")
    sale.get_by_role("button", name="Sell").click()
    page.get_by_text("Acrylic 3 mm, $12.00, paid in cash.").wait_for()
    page.locator("[data-ledger]").get_by_text("$12.00").wait_for()
    assert Material.objects.get(pk=acrylic.pk).stock == 2
    (entry,) = LedgerEntry.objects.filter(member=member)
    assert (entry.kind, entry.method, entry.amount_minor, entry.recorded_by) == (
        "material",
        "cash",
        1200,
        staff,
    )
    for width, height, name in [(1280, 900, "desktop"), (390, 844, "phone")]:
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=tmp_path / f"desk-sale-{name}.png", full_page=True)

    # More than is left: refused with the reason, nothing sold.
    sale.get_by_label("Material").select_option(label=str(acrylic))
    sale.get_by_label("Quantity").fill("5")
    sale.get_by_role("button", name="Sell").click()
    page.get_by_text("Only 2 sheet of Acrylic 3 mm in stock; 5 asked for.").wait_for()
    assert Material.objects.get(pk=acrylic.pk).stock == 2
    assert LedgerEntry.objects.filter(member=member).count() == 1
