"""Staff badge changes through the API (an admin-scoped key of staff who manage members): a card
enrolled, a lost card disabled at once, each through the front desk's services and recorded with
the key that made it."""

from __future__ import annotations

import pytest

from api.models import ApiWrite, CredentialKind
from membership.models import Badge
from tests.api.conftest import Api, issue
from tests.factories.locations import LocationFactory
from tests.factories.membership import BadgeFactory


def test_an_admin_key_enrols_a_card_for_a_member(staff_api, other_member):
    response = staff_api.post(f"/staff/members/{other_member.pk}/badges", {"uid": "04:a1:b2:c3"})
    assert response.status_code == 201
    badge = Badge.objects.get(member=other_member)
    assert response.json()["uid"] == badge.uid == "04A1B2C3"
    assert response.json()["enabled"] is True
    write = ApiWrite.objects.get()
    assert (write.object_type, write.object_id, write.method) == ("badge", str(badge.pk), "POST")
    assert write.credential.kind == CredentialKind.KEY


def test_a_card_enabled_for_someone_else_is_a_409_and_nothing_changes(
    staff_api, maker, other_member
):
    BadgeFactory(member=maker, uid="04A1B2C3")
    response = staff_api.post(f"/staff/members/{other_member.pk}/badges", {"uid": "04a1b2c3"})
    assert response.status_code == 409
    assert "already enabled for another member" in response.json()["error"]["message"]
    assert not Badge.objects.filter(member=other_member).exists()
    assert not ApiWrite.objects.exists()


def test_a_lost_card_is_disabled_at_once_and_the_gates_are_told(staff_api, maker, gate_calls):
    lost = BadgeFactory(member=maker)
    response = staff_api.post(f"/staff/badges/{lost.pk}/disable", {"reason": "Lost on the bus"})
    assert response.status_code == 200
    assert response.json()["enabled"] is False
    lost.refresh_from_db()
    assert (lost.enabled, lost.disabled_reason) == (False, "Lost on the bus")
    assert gate_calls, "the gates must hear of it"
    assert ApiWrite.objects.get().path == f"/api/v1/staff/badges/{lost.pk}/disable"
    again = staff_api.post(f"/staff/badges/{lost.pk}/disable", {"reason": "Lost"})
    assert again.status_code == 409


def test_a_disable_without_a_reason_is_refused(staff_api, maker):
    badge = BadgeFactory(member=maker)
    assert staff_api.post(f"/staff/badges/{badge.pk}/disable", {"reason": ""}).status_code == 422
    badge.refresh_from_db()
    assert badge.enabled


@pytest.mark.parametrize("scope", ["read", "bookings", "access-log"])
def test_only_an_admin_scope_changes_badges(client, staff, maker, scope):
    badge = BadgeFactory(member=maker)
    api = Api(client, issue(staff, scope, kind=CredentialKind.KEY))
    response = api.post(f"/staff/badges/{badge.pk}/disable", {"reason": "Lost"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "scope_missing"
    badge.refresh_from_db()
    assert badge.enabled


def test_a_members_token_changes_no_badge(client, maker):
    badge = BadgeFactory(member=maker)
    held = Badge.objects.filter(member=maker, enabled=True).count()
    api = Api(client, issue(maker.user, "read", "bookings"))
    assert api.post(f"/staff/badges/{badge.pk}/disable", {"reason": "x"}).status_code == 403
    assert api.post(f"/staff/members/{maker.pk}/badges", {"uid": "04FFFFFF"}).status_code == 403
    assert Badge.objects.filter(member=maker, enabled=True).count() == held


def test_staff_of_another_location_see_no_such_member_or_badge(client, staff, other_member):
    """The key acts as its maker: staff of one location cannot touch another's members."""
    from staffing.models import LocationRole, Role

    here, there = LocationFactory(), LocationFactory()
    LocationRole.objects.create(user=staff, role=Role.STAFF, location=here)
    other_member.home_location = there
    other_member.save(update_fields=["home_location"])
    badge = BadgeFactory(member=other_member)
    api = Api(client, issue(staff, "admin", kind=CredentialKind.KEY))
    assert api.post(f"/staff/badges/{badge.pk}/disable", {"reason": "x"}).status_code == 404
    enrol = api.post(f"/staff/members/{other_member.pk}/badges", {"uid": "04EEEEEE"})
    assert enrol.status_code == 404
    badge.refresh_from_db()
    assert badge.enabled and Badge.objects.filter(member=other_member).count() == 1


def test_a_refusal_of_the_staff_scope_inside_a_service_is_a_json_403(staff_api, maker, monkeypatch):
    """Should a service refuse what the endpoint's own scope let through (a member moved to
    another location meanwhile), the client still gets the API's error, not an HTML page."""
    from membership import services
    from staffing.services import OutOfScope

    def refuse(**kwargs):
        raise OutOfScope("disable a badge: not at a location where you are staff.")

    monkeypatch.setattr(services, "badge_disable", refuse)
    lost = BadgeFactory(member=maker)
    response = staff_api.post(f"/staff/badges/{lost.pk}/disable", {"reason": "Lost"})
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "forbidden",
        "message": "disable a badge: not at a location where you are staff.",
    }
    assert Badge.objects.get(pk=lost.pk).enabled
