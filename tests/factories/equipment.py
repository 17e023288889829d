"""Factories for the equipment app's models."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from equipment.models import (
    IncludedHours,
    Machine,
    MachineEvent,
    MachineRate,
    MachineState,
    MachineStateChange,
    ProblemReport,
)
from tests.factories.membership import PlanFactory, UserFactory
from tests.factories.third_party import EventFactory
from training.models import Certification, MemberCertification


def certification(name: str = "Laser cutter") -> Certification:
    """A certification by name (training's own factories may not exist yet)."""
    from django.utils.text import slugify

    cert, _ = Certification.objects.get_or_create(slug=slugify(name), defaults={"name": name})
    return cert


def certify(member, cert: Certification, **kwargs) -> MemberCertification:
    kwargs.setdefault("granted_by", UserFactory())
    return MemberCertification.objects.create(member=member, certification=cert, **kwargs)


class MachineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Machine
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Machine {n}")
    slug = factory.Sequence(lambda n: f"machine-{n}")
    slot_minutes = 30
    min_minutes = 30
    max_minutes = 240
    book_ahead_days = 14
    weekly_hours_per_member = 8
    daily_bookings_per_member = 2
    buffer_minutes = 0


class ProblemReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProblemReport

    machine = factory.SubFactory(MachineFactory)
    reporter = factory.SubFactory(UserFactory)
    description = "The exhaust fan rattles."


class MachineEventFactory(factory.django.DjangoModelFactory):
    """A maintenance window of the machine (an event of django-scheduler)."""

    class Meta:
        model = MachineEvent

    machine = factory.SubFactory(MachineFactory)
    event = factory.SubFactory(EventFactory, title="Maintenance")
    kind = MachineEvent.Kind.MAINTENANCE
    reason = "New laser tube"


class MachineStateChangeFactory(factory.django.DjangoModelFactory):
    """A maintainer taking the machine out of service."""

    class Meta:
        model = MachineStateChange

    machine = factory.SubFactory(MachineFactory)
    from_state = MachineState.IN_SERVICE
    to_state = MachineState.OUT_OF_SERVICE
    reason = "The exhaust fan is broken"
    actor = factory.SubFactory(UserFactory)


class MachineRateFactory(factory.django.DjangoModelFactory):
    """50 cents a minute, rounded up to whole 15 minutes, at least $5 a session, metered for a
    year already."""

    class Meta:
        model = MachineRate

    machine = factory.SubFactory(MachineFactory)
    per_minute_minor = 50
    currency = "usd"
    step_minutes = 15
    minimum_minor = 500
    metered_since = factory.LazyFunction(lambda: timezone.now() - timedelta(days=365))


class IncludedHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncludedHours

    plan = factory.SubFactory(PlanFactory)
    machine = factory.SubFactory(MachineFactory)
    hours = 10
