"""Setup in the product: certifications, plans and prices and waiver versions are changed by
staff on the site, each change recorded with who, when and what (core.models.SetupChange)."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from access.models import AccessSource, GateMessage
from access.services import access_decide
from core.models import SetupChange
from membership import roles, services
from membership.errors import MembershipError
from membership.models import Plan, Waiver
from membership.selectors import members_yet_to_sign_current_waiver
from tests.access.conftest import build_scene
from tests.factories.access import GateDeviceFactory
from tests.factories.membership import (
    MembershipFactory,
    PlanFactory,
    UserFactory,
    WaiverFactory,
    WaiverSignatureFactory,
)
from tests.factories.training import CertificationFactory, ClassSeriesFactory
from training import services as training_services
from training.errors import NotAllowed, TrainingError
from training.models import Certification


@pytest.fixture
def staff(db):
    return UserFactory(role=roles.STAFF, first_name="Sam", last_name="Staffer")


# -- plans ---------------------------------------------------------------------------------


def test_a_new_plan_and_a_price_change_are_recorded(staff):
    plan = services.plan_save(
        plan=Plan(name="Student", monthly_price_cents=5000, currency="usd"), actor=staff
    )
    created = SetupChange.objects.get()
    assert (created.subject_type, created.subject_id, created.action) == (
        "plan",
        plan.pk,
        "created",
    )
    assert created.changes["monthly_price_cents"] == ["", "5000"]
    plan.monthly_price_cents = 4500
    services.plan_save(plan=plan, actor=staff)
    changed = SetupChange.objects.order_by("-id").first()
    assert changed.changes == {"monthly_price_cents": ["5000", "4500"]}
    assert changed.actor == staff
    assert changed.describe() == "plan Student ($45.00/month): changed (monthly_price_cents)"
    services.plan_save(plan=plan, actor=staff)  # nothing changed: nothing recorded
    assert SetupChange.objects.count() == 2


def test_a_plan_made_the_default_takes_the_old_defaults_place(staff):
    old = PlanFactory(name="Monthly", is_default=True)
    new = services.plan_save(
        plan=Plan(name="Monthly 2027", monthly_price_cents=11000, is_default=True), actor=staff
    )
    old.refresh_from_db()
    assert (old.is_default, new.is_default) == (False, True)


def test_plans_are_refused_to_non_staff_and_names_are_unique(staff):
    PlanFactory(name="Monthly")
    with pytest.raises(MembershipError, match="Only staff"):
        services.plan_save(
            plan=Plan(name="Free", monthly_price_cents=0), actor=UserFactory(role=roles.INSTRUCTOR)
        )
    with pytest.raises(MembershipError, match="already called Monthly"):
        services.plan_save(plan=Plan(name="Monthly", monthly_price_cents=1), actor=staff)
    assert SetupChange.objects.count() == 0


# -- waivers -------------------------------------------------------------------------------


def test_publishing_a_waiver_makes_every_member_sign_again_before_the_next_use(
    db, settings, django_capture_on_commit_callbacks
):
    """Allowed before; the new version is current at once, so the decision refuses until the
    member signs it; every gate's offline list is renewed in the same transaction."""
    settings.GATE_BROKER_URL = "mqtt://127.0.0.1:1"
    scene = build_scene()
    device = GateDeviceFactory(machine=scene.machine)
    other = GateDeviceFactory()
    staff = UserFactory(role=roles.STAFF)
    assert access_decide(
        badge_uid=scene.badge_uid, machine=scene.machine, source=AccessSource.GATE
    ).decision.allowed
    assert members_yet_to_sign_current_waiver().count() == 0
    GateMessage.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        waiver = services.waiver_publish(
            title="Shop safety waiver", text="Eye protection at all times.", actor=staff
        )
    assert waiver.version == 2
    assert set(GateMessage.objects.filter(kind="allowlist").values_list("device", flat=True)) == {
        device.pk,
        other.pk,
    }
    refused = access_decide(
        badge_uid=scene.badge_uid, machine=scene.machine, source=AccessSource.GATE
    ).decision
    assert (refused.allowed, refused.reason) == (False, "waiver_missing")
    assert list(members_yet_to_sign_current_waiver()) == [scene.member]
    WaiverSignatureFactory(member=scene.member, waiver=waiver)
    assert members_yet_to_sign_current_waiver().count() == 0
    published = SetupChange.objects.get(subject_type="waiver")
    assert (published.action, published.changes["version"]) == ("published", ["", "2"])


def test_only_members_who_may_use_machines_are_counted_as_yet_to_sign(db):
    WaiverFactory(version=1)
    for status in ("active", "past_due", "pending", "canceled"):
        MembershipFactory(status=status)
    assert members_yet_to_sign_current_waiver().count() == 2


def test_an_unchanged_or_empty_waiver_is_not_published(staff):
    WaiverFactory(version=3, title="Waiver", text="Be careful.")
    with pytest.raises(MembershipError, match="current waiver's text already"):
        services.waiver_publish(title="Waiver", text=" Be careful.\n", actor=staff)
    with pytest.raises(MembershipError, match="title and its text"):
        services.waiver_publish(title="Waiver", text="  ", actor=staff)
    with pytest.raises(MembershipError, match="Only staff"):
        services.waiver_publish(title="W", text="T", actor=UserFactory(role=roles.MEMBER))
    assert Waiver.objects.count() == 1


# -- certifications ------------------------------------------------------------------------


def test_a_new_certification_with_prerequisites_and_instructors_is_recorded(staff):
    basics = CertificationFactory(name="Shop basics")
    teacher = UserFactory(role=roles.INSTRUCTOR, email="teach@example.test")
    cert = training_services.certification_save(
        certification=Certification(name="CNC router", validity_months=24),
        prerequisites=[basics],
        instructors=[teacher],
        actor=staff,
    )
    assert cert.slug == "cnc-router"
    assert list(cert.prerequisites.all()) == [basics]
    assert list(cert.instructors.all()) == [teacher]
    change = SetupChange.objects.get()
    assert change.changes["prerequisites"] == ["", "Shop basics"]
    assert change.changes["validity_months"] == ["", "24"]


def test_new_prerequisites_renew_every_gates_list_and_other_edits_do_not(staff, gate_calls):
    basics = CertificationFactory(name="Shop basics")
    cert = CertificationFactory(name="Laser")
    cert.validity_months = 6
    training_services.certification_save(
        certification=cert, prerequisites=[], instructors=[], actor=staff
    )
    assert gate_calls == []
    training_services.certification_save(
        certification=cert, prerequisites=[basics], instructors=[], actor=staff
    )
    assert [name for name, _ in gate_calls] == ["every_machine_changed"]
    assert SetupChange.objects.order_by("-id").first().changes == {
        "prerequisites": ["", "Shop basics"]
    }


def test_a_certification_cannot_need_itself_down_the_chain(staff):
    a = CertificationFactory(name="A")
    b = CertificationFactory(name="B", prerequisites=[a])
    c = CertificationFactory(name="C", prerequisites=[b])
    with pytest.raises(TrainingError, match="cannot need itself"):
        training_services.certification_save(
            certification=a, prerequisites=[c], instructors=[], actor=staff
        )
    with pytest.raises(TrainingError, match="cannot need itself"):
        training_services.certification_save(
            certification=a, prerequisites=[a], instructors=[], actor=staff
        )
    assert list(a.prerequisites.all()) == []


def test_certifications_are_set_up_by_training_staff_only(db):
    with pytest.raises(NotAllowed):
        training_services.certification_save(
            certification=Certification(name="Lathe"),
            prerequisites=[],
            instructors=[],
            actor=UserFactory(role=roles.INSTRUCTOR),
        )


# -- pages ---------------------------------------------------------------------------------


def test_staff_create_a_certification_on_the_page(client, staff):
    client.force_login(staff)
    basics = CertificationFactory(name="Shop basics")
    response = client.post(
        reverse("console:certification_new"),
        {
            "name": "Laser cutter",
            "description": "",
            "validity_months": "12",
            "prerequisites": [basics.pk],
            "form_token": uuid.uuid4(),
        },
        follow=True,
    )
    assert "Laser cutter saved." in response.content.decode()
    cert = Certification.objects.get(name="Laser cutter")
    page = client.get(reverse("console:certification_edit", args=[cert.pk])).content.decode()
    assert "Sam Staffer: certification <strong>Laser cutter</strong> created" in page


def test_staff_change_a_price_on_the_page(client, staff):
    plan = PlanFactory(name="Monthly", monthly_price_cents=10000)
    client.force_login(staff)
    client.post(
        reverse("console:plan_edit", args=[plan.pk]),
        {"name": "Monthly", "price": "95.50", "currency": "USD", "form_token": uuid.uuid4()},
    )
    plan.refresh_from_db()
    assert (plan.monthly_price_cents, plan.currency, plan.is_default) == (9550, "usd", False)


def test_staff_publish_a_waiver_version_and_read_who_must_sign(client, staff):
    WaiverFactory(version=1, title="Waiver", text="Old")
    MembershipFactory()
    client.force_login(staff)
    page = client.get(reverse("console:waiver_publish")).content.decode()
    assert "Now current: version 1" in page
    response = client.post(
        reverse("console:waiver_publish"),
        {"title": "Waiver", "text": "New rules", "form_token": uuid.uuid4()},
        follow=True,
    )
    body = response.content.decode()
    assert "Version 2 published: 1 member(s) must sign it before their next machine use." in body
    assert '<strong class="waiver-unsigned">1</strong> member still to sign' in body


def test_the_setup_page_reads_in_a_fixed_number_of_queries(
    client, staff, django_assert_max_num_queries
):
    client.force_login(staff)
    client.get(reverse("console:setup"))
    for i in range(6):
        CertificationFactory(name=f"Cert {i}", instructors=[UserFactory()])
        PlanFactory(name=f"Plan {i}", is_default=False)
        ClassSeriesFactory()
    with django_assert_max_num_queries(20):
        assert client.get(reverse("console:setup")).status_code == 200


# -- roles ---------------------------------------------------------------------------------


def test_staff_make_instructors_and_only_an_administrator_makes_staff(staff):
    person = UserFactory(email="ivy@example.test")
    assert services.role_set(user=person, role=roles.INSTRUCTOR, held=True, actor=staff)
    assert roles.user_has_role(person, roles.INSTRUCTOR)
    assert not services.role_set(user=person, role=roles.INSTRUCTOR, held=True, actor=staff)
    change = SetupChange.objects.get(subject_type="role")
    assert (change.subject_id, change.changes, change.actor) == (
        person.pk,
        {"Instructor": ["no", "yes"]},
        staff,
    )
    with pytest.raises(MembershipError, match="only an administrator may make or remove staff"):
        services.role_set(user=person, role=roles.STAFF, held=True, actor=staff)
    with pytest.raises(MembershipError, match="only an administrator"):
        services.role_set(user=staff, role=roles.STAFF, held=False, actor=person)
    with pytest.raises(MembershipError, match="not a role"):
        services.role_set(user=person, role="Member", held=True, actor=staff)
    admin = UserFactory(is_superuser=True)
    assert services.role_set(user=person, role=roles.STAFF, held=True, actor=admin)
    assert services.role_set(user=person, role=roles.INSTRUCTOR, held=False, actor=staff)
    assert not roles.user_has_role(person, roles.INSTRUCTOR)
    assert SetupChange.objects.filter(subject_type="role").count() == 3


def test_the_roles_page_gives_a_role_by_email(client, staff):
    person = UserFactory(email="ivy@example.test", first_name="Ivy", last_name="Teach")
    client.force_login(staff)
    response = client.post(
        reverse("console:roles"),
        {
            "email": "IVY@example.test",
            "role": "Instructor",
            "held": "1",
            "form_token": uuid.uuid4(),
        },
        follow=True,
    )
    assert "ivy@example.test: changed (Instructor)." in response.content.decode()
    page = client.get(reverse("console:roles")).content.decode()
    assert "Ivy Teach (ivy@example.test)" in page
    refused = client.post(
        reverse("console:roles"),
        {"email": "ivy@example.test", "role": "Staff", "held": "1", "form_token": uuid.uuid4()},
    )
    assert refused.status_code == 400
    assert "only an administrator may make or remove staff" in refused.content.decode()
    assert not roles.user_has_role(person, roles.STAFF)
