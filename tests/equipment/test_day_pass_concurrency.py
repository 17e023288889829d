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


@pytest.mark.parametrize("round_", range(3))
def test_staff_cancelling_a_pass_while_another_reverses_its_payment_do_not_deadlock(round_):
    """Cancel-with-refund locks the pass, then its payment; a reversal of the payment now
    takes the same order (membership.billing.ledger.entry_cause_lock). Run at once, one of them
    wins and the other is refused with a reason; never a deadlock, and the money nets to
    zero once."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: row locks between real connections")
    from membership import roles
    from membership.billing.ledger import LedgerRefused, ledger_reverse

    cashier, other = UserFactory(role=roles.STAFF), UserFactory(role=roles.STAFF)
    holder = MemberFactory()
    product = DayPassProductFactory(name="Laser day")
    today = timezone.now().astimezone(product.locations.get().zone).date()
    day_pass = services.day_pass_sell_at_desk(
        holder=holder, product=product, day=today, method="cash", actor=cashier
    )
    payment = LedgerEntry.objects.get(member=holder)
    results = at_once(
        lambda: services.day_pass_cancel(
            day_pass=day_pass, actor=cashier, reason="Wrong member", refund=True
        ),
        lambda: ledger_reverse(entry=payment, actor=other, reason="Recorded twice"),
    )
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1, results
    assert isinstance(refused[0], services.DayPassRefused | LedgerRefused), refused
    amounts = LedgerEntry.objects.filter(member=holder).values_list("amount_minor", flat=True)
    assert len(amounts) == 2 and sum(amounts) == 0
    assert DayPass.objects.get(pk=day_pass.pk).state in {"cancelled", "refunded"}
