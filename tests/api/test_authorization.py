"""Who may do what: a member's token sees only the member's own things, scopes narrow every
credential, and a revoked, expired or malformed one is refused at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from api import services
from api.models import ApiCredential, ApiWrite, CredentialKind
from bookings.models import Booking
from tests.api.conftest import Api, at, issue
from tests.factories.bookings import BookingFactory

pytestmark = pytest.mark.django_db

STAFF_READS = [
    "/staff/members",
    "/staff/members/1",
    "/staff/badges",
    "/staff/access-events",
    "/staff/usage-sessions",
    "/staff/gates",
    "/staff/gates/gate-1",
]


def test_a_members_token_cannot_read_another_members_booking(member_api, other_member):
    """Another member's booking is not found, as if it did not exist; the list leaves it out."""
    theirs = BookingFactory(member=other_member)
    assert member_api.get(f"/bookings/{theirs.pk}").status_code == 404
    assert member_api.get("/bookings").json()["items"] == []
    for action, body in (("cancel", {}), ("extend", {"end": at(30)})):
        response = member_api.post(f"/bookings/{theirs.pk}/{action}", body)
        assert response.status_code == 404
    assert Booking.objects.get(pk=theirs.pk).state == "confirmed"
    assert not ApiWrite.objects.exists()


def test_a_member_cannot_book_for_another_member(member_api, laser, other_member):
    response = member_api.post(
        "/bookings",
        {"machine": "laser", "start": at(2), "end": at(3), "member_id": other_member.pk},
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_yours"
    assert not Booking.objects.exists()


@pytest.mark.parametrize("path", STAFF_READS)
def test_a_members_token_reaches_no_staff_endpoint(member_api, path):
    response = member_api.get(path)
    assert response.status_code == 403
    assert response.json()["error"]["code"] in {"permission_missing", "scope_missing"}


@pytest.mark.parametrize("path", STAFF_READS)
def test_a_member_with_an_admin_scoped_token_still_lacks_staff_permissions(client, maker, path):
    """Scopes narrow a user's permissions, never add to them (a member cannot pick admin, but
    even a token widened in the database gets no staff data)."""
    secret = issue(maker.user, "read")
    ApiCredential.objects.filter(user=maker.user).update(scopes=["admin"])
    response = Api(client, secret).get(path)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_missing"


def test_a_read_only_key_cannot_write(client, laser, staff):
    api = Api(client, issue(staff, "read", kind=CredentialKind.KEY))
    assert api.get("/machines").status_code == 200
    response = api.post("/bookings", {"machine": "laser", "start": at(2), "end": at(3)})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "scope_missing"
    assert not Booking.objects.exists()


def test_a_bookings_key_cannot_read_the_access_log(client, staff):
    api = Api(client, issue(staff, "bookings", kind=CredentialKind.KEY))
    assert api.get("/staff/members").status_code == 200
    assert api.get("/staff/access-events").status_code == 403


def test_an_access_log_key_reads_the_access_side_only(client, staff):
    api = Api(client, issue(staff, "access-log", kind=CredentialKind.KEY))
    assert api.get("/staff/access-events").status_code == 200
    assert api.get("/staff/gates").status_code == 200
    assert api.get("/staff/members").status_code == 403


def test_a_revoked_key_is_refused_on_the_next_request(client, staff):
    issued = services.credential_issue(
        kind=CredentialKind.KEY, user=staff, name="door display", scopes=["read"]
    )
    api = Api(client, issued.secret)
    assert api.get("/me").status_code == 200
    services.credential_revoke(credential=issued.credential, actor=staff)
    response = api.get("/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_revoked"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_is_refused(client, maker, frozen):
    secret = issue(maker.user, "read", expires_at=timezone.now() + timedelta(hours=1))
    api = Api(client, secret)
    assert api.get("/me").status_code == 200
    frozen.shift(3601)
    assert api.get("/me").json()["error"]["code"] == "token_expired"


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "not_authenticated"),
        ("Basic dXNlcjpwYXNz", "not_authenticated"),
        ("Bearer ", "token_malformed"),
        ("Bearer nonsense", "token_malformed"),
        ("Bearer tg_token_abc", "token_malformed"),
        ("Bearer tg_token_000000000000_forged-secret", "token_invalid"),
    ],
)
def test_a_missing_or_malformed_token_is_a_401(client, db, header, code):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/api/v1/me", **extra)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code


def test_a_tampered_secret_of_a_real_credential_is_refused(client, maker):
    secret = issue(maker.user, "read")
    tampered = secret[:-2] + ("AA" if not secret.endswith("AA") else "BB")
    assert Api(client, tampered).get("/me").json()["error"]["code"] == "token_invalid"


def test_only_a_hash_of_the_secret_is_stored_and_last_use_is_kept(client, maker):
    issued = services.credential_issue(
        kind=CredentialKind.TOKEN, user=maker.user, name="script", scopes=["read"]
    )
    row = ApiCredential.objects.get()
    assert issued.secret not in str(row.__dict__.values())
    assert row.digest == services.credential_digest(issued.secret) and len(row.digest) == 64
    assert row.last_used_at is None
    Api(client, issued.secret).get("/me")
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_a_member_cannot_make_a_key_or_a_wider_token(maker):
    from api.errors import CredentialRejected

    with pytest.raises(CredentialRejected):
        services.credential_issue(
            kind=CredentialKind.KEY, user=maker.user, name="k", scopes=["read"]
        )
    with pytest.raises(CredentialRejected, match="only read or manage your bookings"):
        services.credential_issue(
            kind=CredentialKind.TOKEN, user=maker.user, name="t", scopes=["access-log"]
        )


def test_over_the_rate_limit_is_a_429_with_retry_after(client, staff, frozen):
    api = Api(client, issue(staff, "read", kind=CredentialKind.KEY, rate_limit_per_minute=3))
    answers = [api.get("/me") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0]["X-RateLimit-Remaining"] == "2"
    assert answers[3].json()["error"]["code"] == "rate_limited"
    assert 1 <= int(answers[3]["Retry-After"]) <= 60
    frozen.shift(61)
    assert api.get("/me").status_code == 200


def test_rate_limits_are_per_key(client, staff):
    first = Api(client, issue(staff, "read", kind=CredentialKind.KEY, rate_limit_per_minute=1))
    second = Api(client, issue(staff, "read", kind=CredentialKind.KEY, rate_limit_per_minute=1))
    assert first.get("/me").status_code == 200
    assert first.get("/me").status_code == 429
    assert second.get("/me").status_code == 200


def test_staff_endpoints_show_only_the_locations_where_the_key_maker_is_staff(client, staff):
    """A key acts as its maker: staff of one location see that location's gates and events."""
    from staffing.models import LocationRole, Role
    from tests.factories.access import AccessEventFactory, GateDeviceFactory
    from tests.factories.equipment import MachineFactory
    from tests.factories.locations import LocationFactory

    here, there = LocationFactory(), LocationFactory()
    LocationRole.objects.create(user=staff, role=Role.STAFF, location=here)
    ours = GateDeviceFactory(machine=MachineFactory(location=here))
    theirs = GateDeviceFactory(machine=MachineFactory(location=there))
    AccessEventFactory(machine=ours.machine, device=ours)
    AccessEventFactory(machine=theirs.machine, device=theirs)
    api = Api(client, issue(staff, "access-log", kind=CredentialKind.KEY))
    gates = [g["device_id"] for g in api.get("/staff/gates").json()["items"]]
    events = [e["device_id"] for e in api.get("/staff/access-events").json()["items"]]
    assert gates == [ours.device_id] and events == [ours.device_id]
    assert api.get(f"/staff/gates/{theirs.device_id}").status_code == 404


def test_an_error_is_told_in_the_requests_language_with_the_same_code(client, maker):
    secret = issue(maker.user, "read")
    forged = secret[:-2] + ("AA" if not secret.endswith("AA") else "BB")
    header = {"HTTP_AUTHORIZATION": f"Bearer {forged}"}
    english = client.get("/api/v1/me", **header).json()["error"]
    korean = client.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="ko", **header).json()["error"]
    assert english == {"code": "token_invalid", "message": "The token is not valid."}
    assert korean == {"code": "token_invalid", "message": "유효한 토큰이 아닙니다."}
    backwards = {"start": "2030-01-02T00:00:00Z", "end": "2030-01-01T00:00:00Z"}
    span = Api(client, secret).get("/bookings", backwards, HTTP_ACCEPT_LANGUAGE="ko")
    assert span.json()["error"] == {"code": "bad_span", "message": "end는 start보다 뒤여야 합니다."}
