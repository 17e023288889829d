"""Factories for the models of the other installed apps whose admin pages Toolgate serves."""

from __future__ import annotations

import uuid
from datetime import timedelta

import factory
from django.apps import apps
from django.utils import timezone

from tests.factories.membership import UserFactory


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "auth.Group"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Group {n}")


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sites.Site"

    domain = factory.Sequence(lambda n: f"site{n}.example.org")
    name = factory.Sequence(lambda n: f"Site {n}")


class EmailAddressFactory(factory.django.DjangoModelFactory):
    """allauth's record of a user's address (verified, primary)."""

    class Meta:
        model = "account.EmailAddress"

    user = factory.SubFactory(UserFactory)
    email = factory.SelfAttribute("user.email")
    verified = True
    primary = True


# django-scheduler: calendars, events and their recurrence, as Toolgate's calendars use them.


class CalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "schedule.Calendar"
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Calendar {n}")
    slug = factory.Sequence(lambda n: f"calendar-{n}")


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "schedule.Rule"

    name = factory.Sequence(lambda n: f"Weekly {n}")
    description = "Every week"
    frequency = "WEEKLY"


class EventFactory(factory.django.DjangoModelFactory):
    """A two-hour event next week, on a calendar of its own."""

    class Meta:
        model = "schedule.Event"

    calendar = factory.SubFactory(CalendarFactory)
    title = factory.Sequence(lambda n: f"Event {n}")
    start = factory.LazyFunction(
        lambda: timezone.now().replace(second=0, microsecond=0) + timedelta(days=7)
    )
    end = factory.LazyAttribute(lambda o: o.start + timedelta(hours=2))


class OccurrenceFactory(factory.django.DjangoModelFactory):
    """An event's occurrence, saved as moved by an hour."""

    class Meta:
        model = "schedule.Occurrence"

    event = factory.SubFactory(EventFactory)
    title = factory.SelfAttribute("event.title")
    original_start = factory.SelfAttribute("event.start")
    original_end = factory.SelfAttribute("event.end")
    start = factory.LazyAttribute(lambda o: o.original_start + timedelta(hours=1))
    end = factory.LazyAttribute(lambda o: o.original_end + timedelta(hours=1))


class EventRelationFactory(factory.django.DjangoModelFactory):
    """An event related to a user (django-scheduler's generic relation)."""

    class Meta:
        model = "schedule.EventRelation"

    event = factory.SubFactory(EventFactory)
    content_object = factory.SubFactory(UserFactory)
    distinction = "owner"


class CalendarRelationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "schedule.CalendarRelation"

    calendar = factory.SubFactory(CalendarFactory)
    content_object = factory.SubFactory(UserFactory)
    distinction = "owner"


# django-celery-results: the task runner's outcomes. factory_boy resolves a model when the
# factory is defined, so these exist only where the app is installed.
if apps.is_installed("django_celery_results"):

    class TaskResultFactory(factory.django.DjangoModelFactory):
        class Meta:
            model = "django_celery_results.TaskResult"

        task_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
        task_name = "membership.tasks.lapse_memberships"
        status = "SUCCESS"
        content_type = "application/json"
        content_encoding = "utf-8"
        result = "null"
        date_done = factory.LazyFunction(timezone.now)

    class GroupResultFactory(factory.django.DjangoModelFactory):
        class Meta:
            model = "django_celery_results.GroupResult"

        group_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
        content_type = "application/json"
        content_encoding = "utf-8"
        result = "[]"


# django-allauth's single sign-on records (docs/sso.md).


class SocialAppFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "socialaccount.SocialApp"

    provider = "openid_connect"
    provider_id = factory.Sequence(lambda n: f"idp{n}")
    name = factory.Sequence(lambda n: f"Identity provider {n}")
    client_id = factory.Sequence(lambda n: f"client-{n}")
    secret = "client-secret"
    settings = factory.LazyFunction(lambda: {"server_url": "https://id.example.org"})


class SocialAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "socialaccount.SocialAccount"

    user = factory.SubFactory(UserFactory)
    provider = "sso"
    uid = factory.Sequence(lambda n: f"subject-{n}")
    extra_data = factory.LazyAttribute(lambda o: {"sub": o.uid})


class SocialTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "socialaccount.SocialToken"

    app = factory.SubFactory(SocialAppFactory)
    account = factory.SubFactory(SocialAccountFactory)
    token = factory.Sequence(lambda n: f"access-token-{n}")
