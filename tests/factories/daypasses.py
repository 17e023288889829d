"""Factories for day passes (equipment.daypasses): a product and a pass sold from it."""

from __future__ import annotations

import factory
from django.utils import timezone

from equipment.models import DayPass, DayPassProduct, DayPassState
from tests.factories.membership import MemberFactory


class DayPassProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DayPassProduct
        django_get_or_create = ("name",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Day pass {n}")
    price_minor = 4000
    currency = "usd"

    @factory.post_generation
    def machines(self, create, extracted, **kwargs):
        if create and extracted:
            self.machines.set(extracted)

    @factory.post_generation
    def certifications(self, create, extracted, **kwargs):
        if create and extracted:
            self.certifications.set(extracted)

    @factory.post_generation
    def locations(self, create, extracted, **kwargs):
        """The locations named, else those of its machines, else the default location."""
        if not create:
            return
        if extracted:
            self.locations.set(extracted)
            return
        from locations.models import default_location

        named = {machine.location_id for machine in self.machines.all()}
        self.locations.set(named or [default_location().pk])


class DayPassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DayPass

    product = factory.SubFactory(DayPassProductFactory)
    holder = factory.SubFactory(MemberFactory)
    day = factory.LazyFunction(lambda: timezone.localdate())
    state = DayPassState.PAID
    price_minor = factory.LazyAttribute(lambda o: o.product.price_minor)
    currency = factory.LazyAttribute(lambda o: o.product.currency)
    method = "cash"
