"""Factories for the membership app's models."""

from __future__ import annotations

import factory
from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from membership import roles
from membership.models import (
    Badge,
    ChangeCause,
    CreditPack,
    Discount,
    LedgerEntry,
    Material,
    Member,
    Membership,
    MembershipChange,
    MembershipStatus,
    Payment,
    Plan,
    StripeEvent,
    StripeRefund,
    User,
    Waiver,
    WaiverSignature,
)

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))
            if extracted == roles.STAFF:
                self.is_staff = True
        if create:
            self.save()


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan
        django_get_or_create = ("name",)

    name = "Monthly membership"
    monthly_price_cents = 10000
    currency = "usd"
    is_default = True


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    user = factory.SubFactory(UserFactory)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    member = factory.SubFactory(MemberFactory)
    plan = factory.SubFactory(PlanFactory)
    status = MembershipStatus.ACTIVE
    current_period_end = factory.LazyFunction(lambda: timezone.now() + relativedelta(days=20))


class BadgeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Badge

    member = factory.SubFactory(MemberFactory)
    uid = factory.Sequence(lambda n: f"{0x04000000 + n:08X}")


class WaiverFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Waiver
        django_get_or_create = ("version",)

    version = 1
    title = "Shop safety waiver"
    text = "I will use only the machines I am certified on."


class WaiverSignatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WaiverSignature

    member = factory.SubFactory(MemberFactory)
    waiver = factory.SubFactory(WaiverFactory)
    signed_name = factory.LazyAttribute(lambda o: o.member.display_name)


def ready_member(**membership_kwargs) -> Member:
    """A member who may use machines: active membership, current waiver signed, a badge."""
    membership = MembershipFactory(**membership_kwargs)
    member = membership.member
    WaiverSignatureFactory(member=member, waiver=WaiverFactory())
    BadgeFactory(member=member)
    return member


class StripePlanFactory(PlanFactory):
    """The default plan connected to a Stripe price (as docs/billing.md sets it up)."""

    stripe_price_id = "price_1TgMonthly100usd"


class StripeMembershipFactory(MembershipFactory):
    """A membership that joined through Stripe Checkout: it has a customer and a subscription."""

    plan = factory.SubFactory(StripePlanFactory)
    stripe_customer_id = factory.Sequence(lambda n: f"cus_Test{n:010d}")
    stripe_subscription_id = factory.Sequence(lambda n: f"sub_Test{n:010d}")
    stripe_subscription_status = "active"


class StripeEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StripeEvent

    event_id = factory.Sequence(lambda n: f"evt_Test{n:010d}")
    type = "invoice.paid"
    stripe_created_at = factory.LazyFunction(timezone.now)
    membership = factory.SubFactory(StripeMembershipFactory)
    outcome = StripeEvent.Outcome.APPLIED
    note = "subscription is active"
    payload = factory.LazyAttribute(lambda o: {"id": o.event_id, "type": o.type})


class MembershipChangeFactory(factory.django.DjangoModelFactory):
    """Staff activating a pending membership."""

    class Meta:
        model = MembershipChange

    membership = factory.SubFactory(MembershipFactory)
    from_status = MembershipStatus.PENDING
    to_status = MembershipStatus.ACTIVE
    cause = ChangeCause.STAFF
    reason = "Paid in cash at the front desk"


class PaymentFactory(factory.django.DjangoModelFactory):
    """A month paid in cash and recorded by staff."""

    class Meta:
        model = Payment

    member = factory.SubFactory(MemberFactory)
    amount_cents = 10000
    method = Payment.Method.MANUAL
    period_start = factory.LazyFunction(timezone.now)
    period_end = factory.LazyAttribute(lambda o: o.period_start + relativedelta(months=1))
    recorded_by = factory.SubFactory(UserFactory)


class MaterialFactory(factory.django.DjangoModelFactory):
    """A sheet material in stock at the desk."""

    class Meta:
        model = Material
        django_get_or_create = ("name",)

    name = "Acrylic 3 mm"
    unit = "sheet"
    price_minor = 1200
    currency = "usd"
    stock = 10
    low_stock_threshold = 2


class LedgerEntryFactory(factory.django.DjangoModelFactory):
    """$100.00 paid in cash for the member's membership (the member is its cause)."""

    class Meta:
        model = LedgerEntry

    member = factory.SubFactory(MemberFactory)
    kind = LedgerEntry.Kind.MEMBERSHIP
    method = LedgerEntry.Method.CASH
    amount_minor = 10000
    currency = "usd"
    cause_type = factory.LazyFunction(lambda: ContentType.objects.get_for_model(Member))
    cause_id = factory.SelfAttribute("member.pk")


class CreditPackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditPack
        django_get_or_create = ("name",)

    name = "$50 of credits"
    amount_minor = 5000
    currency = "usd"


class DiscountFactory(factory.django.DjangoModelFactory):
    """A discount beside a cash entry of $9.00 that was $10.00."""

    class Meta:
        model = Discount

    entry = factory.SubFactory(LedgerEntryFactory, amount_minor=900)
    kind = Discount.Kind.FIXED
    value = 100
    list_minor = 1000
    discount_minor = 100
    reason = "Volunteer"
    granted_by = factory.SubFactory(UserFactory)


class StripeRefundFactory(factory.django.DjangoModelFactory):
    """A card refund of $30.00 requested of a $30.00 card payment, not sent yet."""

    class Meta:
        model = StripeRefund

    payment = factory.SubFactory(
        LedgerEntryFactory,
        method=LedgerEntry.Method.STRIPE,
        amount_minor=3000,
        stripe_object_id=factory.Sequence(lambda n: f"pi_TgFactory{n:06d}"),
    )
    amount_minor = 3000
    reason = "Cancelled 48 h or more before the class"
    idempotency_key = factory.Sequence(lambda n: f"toolgate-refund-factory-{n}")
