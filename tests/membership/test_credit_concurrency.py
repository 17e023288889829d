"""Two spends of the same credits at once (two browser tabs, two desks), on real PostgreSQL
connections in two threads: one is paid, the other refused, the balance never below zero."""

from __future__ import annotations

import pytest
from django.db import connection

from membership.billing import desk, selectors, wallet
from membership.models import LedgerEntry
from tests.concurrency import at_once
from tests.factories.membership import MaterialFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("round_", range(3))
def test_two_spends_at_once_never_take_the_credits_below_zero(round_):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: row locks between real connections")
    from membership import roles

    cashier = UserFactory(role=roles.STAFF)
    member = MembershipFactory().member
    wallet.credits_buy_at_desk(member=member, amount_minor=1500, currency="usd", actor=cashier)
    # Two different materials, so only the credits (the member's lock) stand between the sales.
    materials = [
        MaterialFactory(name="Acrylic 3 mm", stock=10, price_minor=1200),
        MaterialFactory(name="Plywood 6 mm", stock=10, price_minor=1200),
    ]
    results = at_once(
        *[
            lambda material=material: desk.material_sell(
                member=member, material=material, quantity=1, method="credits", actor=cashier
            )
            for material in materials
        ]
    )

    sold = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(sold) == 1
    assert [type(r).__name__ for r in refused] == ["SaleRefused"]
    assert "Not enough credits: $3.00 left" in refused[0].message
    assert selectors.member_credit_balance(member, "usd") == 300
    assert LedgerEntry.objects.filter(member=member, method="credits").count() == 1
    assert sorted(m.__class__.objects.get(pk=m.pk).stock for m in materials) == [9, 10]
