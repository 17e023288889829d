"""Factories for the metering app: a usage charge for a member's hour on a metered machine."""

from __future__ import annotations

from datetime import date

import factory
from django.conf import settings

from metering.models import UsageCharge
from metering.rules import Grant
from tests.factories.access import UsageSessionFactory
from tests.factories.membership import MemberFactory


class UsageChargeFactory(factory.django.DjangoModelFactory):
    """The whole of an hour's session, 30 minutes of it included and 30 charged on the statement."""

    class Meta:
        model = UsageCharge

    member = factory.SubFactory(MemberFactory)
    session = factory.SubFactory(UsageSessionFactory, member=factory.SelfAttribute("..member"))
    machine = factory.SelfAttribute("session.machine")
    month = factory.LazyAttribute(
        lambda o: date(o.session.started_at.year, o.session.started_at.month, 1)
    )
    grant = Grant.BOOKING.value
    part_start = factory.SelfAttribute("session.started_at")
    part_end = factory.SelfAttribute("session.ended_at")
    last_part = True
    seconds = 3600
    included_seconds = 1800
    charged_minutes = 30
    amount_minor = 1500
    currency = factory.LazyFunction(lambda: settings.SPACE_CURRENCY)
    billing = UsageCharge.Billing.STATEMENT
