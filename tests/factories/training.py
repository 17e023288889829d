"""Factories for the training app's models."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from membership import roles
from tests.factories.membership import MemberFactory, UserFactory
from tests.factories.third_party import EventFactory, RuleFactory
from training.models import (
    Certification,
    ClassSeries,
    ClassSession,
    Enrollment,
    EnrollmentStatus,
    LocalCheckout,
    MemberCertification,
    MemberCheckout,
    TrainingRequest,
)


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Certification
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Machine {n}")
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))
    validity_months = 12

    @factory.post_generation
    def prerequisites(self, create, extracted, **kwargs):
        if create and extracted:
            self.prerequisites.add(*extracted)

    @factory.post_generation
    def instructors(self, create, extracted, **kwargs):
        if create and extracted:
            self.instructors.add(*extracted)


class ClassSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClassSession
        skip_postgeneration_save = True

    certification = factory.SubFactory(CertificationFactory)
    instructor = factory.SubFactory(UserFactory, role=roles.INSTRUCTOR)
    start = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(hours=2))
    capacity = 4
    place = "Classroom"

    @factory.post_generation
    def _instructor_teaches(self, create, extracted, **kwargs):
        if create:
            self.certification.instructors.add(self.instructor)


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    session = factory.SubFactory(ClassSessionFactory)
    member = factory.SubFactory(MemberFactory)
    status = EnrollmentStatus.ENROLLED


class MemberCertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberCertification

    member = factory.SubFactory(MemberFactory)
    certification = factory.SubFactory(CertificationFactory)
    granted_by = factory.SubFactory(UserFactory, role=roles.INSTRUCTOR)
    granted_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.granted_at + timedelta(days=365))


class TrainingRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingRequest

    member = factory.SubFactory(MemberFactory)
    certification = factory.SubFactory(CertificationFactory)


class ClassSeriesFactory(factory.django.DjangoModelFactory):
    """A weekly class: its dates are a recurring django-scheduler event."""

    class Meta:
        model = ClassSeries

    event = factory.SubFactory(EventFactory, rule=factory.SubFactory(RuleFactory))
    certification = factory.SubFactory(CertificationFactory)
    instructor = factory.SubFactory(UserFactory, role=roles.INSTRUCTOR)
    capacity = 4
    place = "Classroom"


class LocalCheckoutFactory(factory.django.DjangoModelFactory):
    """A named local sign-off at a location (a machine there may require it)."""

    class Meta:
        model = LocalCheckout

    location = factory.SubFactory("tests.factories.locations.LocationFactory")
    name = factory.Sequence(lambda n: f"Local check-out {n}")


class MemberCheckoutFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberCheckout

    member = factory.SubFactory(MemberFactory)
    checkout = factory.SubFactory(LocalCheckoutFactory)
    granted_by = factory.SubFactory(UserFactory)
