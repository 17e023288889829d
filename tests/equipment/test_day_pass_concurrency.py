"""The same pass sold twice at once (two desks, two tabs), on real PostgreSQL connections in two
threads: one is sold and paid, the other refused, one ledger entry."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from equipment.daypasses import services
from equipment.models import DayPass
from membership.models import LedgerEntry
from tests.concurrency import at_once
from tests.factories.daypasses import DayPassProductFactory
from tests.factories.membership import MemberFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("round_", range(3))
def test_one_pass_sold_twice_at_once_is_sold_once(round_):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: row locks between real connections")
    from membership import roles

    cashiers = [UserFactory(role=roles.STAFF), UserFactory(role=roles.STAFF)]
    holder = MemberFactory()
    product = DayPassProductFactory(name="Laser day")
    today = timezone.now().astimezone(product.locations.get().zone).date()
    results = at_once(
        *[
            lambda cashier=cashier: services.day_pass_sell_at_desk(
                holder=holder, product=product, day=today, method="cash", actor=cashier
            )
            for cashier in cashiers
        ]
    )
    refused = [r for r in results if isinstance(r, Exception)]
    assert [type(r).__name__ for r in refused] == ["DayPassRefused"]
    assert "already has Laser day" in refused[0].message
    assert DayPass.objects.count() == 1
    assert LedgerEntry.objects.filter(member=holder, kind="day_pass").count() == 1
