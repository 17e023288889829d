"""What every location shares (certifications, plans, the waiver, roles, webhooks) is the head
office's to change: a staff member of one location is refused, and the refusal is kept."""

from __future__ import annotations

import pytest
from django.urls import reverse

from locations.models import Location
from membership import roles
from membership import services as membership_services
from membership.models import Plan
from staffing.models import RefusedAction, Role
from staffing.services import OutOfScope, location_role_grant
from tests.factories.locations import LocationFactory
from tests.factories.membership import PlanFactory, UserFactory

pytestmark = pytest.mark.django_db

SHARED_PAGES = [
    ("console:certification_new", ()),
    ("console:plan_new", ()),
    ("console:waiver_publish", ()),
    ("console:roles", ()),
    ("webhooks:endpoint_list", ()),
    ("webhooks:endpoint_new", ()),
]


@pytest.fixture
def chain():
    menlo = LocationFactory(slug="menlo-park", name="Menlo Park")
    LocationFactory(slug="raleigh", name="Raleigh", time_zone="America/New_York")
    return menlo


def staff(*, at):
    user = UserFactory(role=roles.STAFF)
    location_role_grant(user=user, role=Role.STAFF, location=at)
    return user


@pytest.mark.parametrize(("name", "args"), SHARED_PAGES)
def test_staff_of_one_location_are_refused_the_chains_shared_setup(client, chain, name, args):
    url = reverse(name, args=args)
    client.force_login(staff(at=chain))

    assert client.get(url).status_code == 403
    refused = RefusedAction.objects.get()
    assert (refused.path, refused.location_id) == (url, None)


@pytest.mark.parametrize(("name", "args"), SHARED_PAGES)
def test_head_office_staff_open_the_chains_shared_setup(client, chain, name, args):
    client.force_login(staff(at=None))

    assert client.get(reverse(name, args=args)).status_code == 200
    assert not RefusedAction.objects.exists()


@pytest.mark.parametrize(("name", "args"), SHARED_PAGES)
def test_in_a_space_with_one_location_its_staff_are_the_head_office(client, name, args):
    LocationFactory(slug="only", name="The shop")
    client.force_login(UserFactory(role=roles.STAFF))  # no location role at all

    assert client.get(reverse(name, args=args)).status_code == 200


def test_the_service_refuses_a_plan_change_from_one_locations_staff_too(chain):
    plan = PlanFactory(name="Basic")
    plan.name = "Cheap"

    with pytest.raises(OutOfScope, match="only head-office staff"):
        membership_services.plan_save(plan=plan, actor=staff(at=chain))

    assert Plan.objects.get(pk=plan.pk).name == "Basic"


def test_staff_at_every_location_count_as_the_head_office(client, chain):
    user = staff(at=chain)
    location_role_grant(user=user, role=Role.STAFF, location=Location.objects.get(slug="raleigh"))
    client.force_login(user)

    assert client.get(reverse("console:plan_new")).status_code == 200


def test_setup_shows_one_locations_staff_the_shared_setup_without_links_to_change_it(client, chain):
    PlanFactory(name="Basic")
    client.force_login(staff(at=chain))

    page = client.get(reverse("console:setup")).content.decode()

    assert "Basic" in page and reverse("console:plan_new") not in page
    assert "Set by the head office for every location." in page


def test_the_menu_offers_webhooks_to_the_head_office_only(client, chain):
    webhooks = f'href="{reverse("webhooks:endpoint_list")}"'
    for user, shown in ((staff(at=chain), False), (staff(at=None), True)):
        client.force_login(user)
        assert (webhooks in client.get(reverse("dashboard")).content.decode()) is shown


@pytest.mark.parametrize("at", ["menlo-park", None], ids=["one location", "head office"])
def test_the_menus_head_office_check_asks_one_query(rf, chain, at, django_assert_num_queries):
    """Where the person holds the role, every location and the default one: one statement, and
    the check that every location is covered is answered from it (it ran on every staff page)."""
    from membership.context_processors import navigation

    user = staff(at=Location.objects.get(slug=at) if at else None)
    request = rf.get("/")
    request.user = user
    user.has_perm("webhooks.manage_endpoints")  # Django's permission cache, read apart
    roles.user_has_role(user, roles.INSTRUCTOR)
    with django_assert_num_queries(1):
        links = navigation(request)["nav_staff"]
    assert any(link.label == "Webhooks" for _, group in links for link in group) is (at is None)
