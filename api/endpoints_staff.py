"""Staff operations (by permission and scope): members, badges, access events, usage, gates;
and the badge changes an integration makes (a card enrolled at a kiosk, a lost card disabled).

Read from `api.selectors`' staff functions, which take the staff user: a per-location scope
narrows them there.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from api import present, schemas
from api import selectors as api_selectors
from api.auth import Need, staff
from api.errors import NotFound
from api.pagination import paginate
from api.responses import READ_ERRORS, WRITE_ERRORS, check_span, recorded_write, user
from api.schemas import Instant, Limit
from membership import services as membership_services

router = Router(tags=["staff"])

members_read = staff(Need.READ, "membership.manage_members")
access_read = staff(Need.ACCESS_LOG, "access.manage_gates")
members_write = staff(Need.ADMIN, "membership.manage_members")


@router.get("/members", response={200: schemas.MemberPage, **READ_ERRORS}, auth=members_read)
def members_list(
    request: HttpRequest,
    q: str = Query("", max_length=200),
    cursor: str | None = None,
    limit: Limit | None = None,
) -> schemas.MemberPage:
    """Members, newest first; `q` searches names, emails and badge UIDs like the front desk."""
    rows = api_selectors.staff_members(user(request), query=q)
    page, next_cursor = paginate(rows, key="pk", descending=True, cursor=cursor, limit=limit)
    return schemas.MemberPage(
        items=[present.member_summary(m) for m in page], next_cursor=next_cursor
    )


@router.get(
    "/members/{member_id}",
    response={200: schemas.MemberSummary, **READ_ERRORS},
    auth=members_read,
)
def member_detail(request: HttpRequest, member_id: int) -> schemas.MemberSummary:
    found = api_selectors.staff_member(user(request), member_id)
    if found is None:
        raise NotFound(_("There is no member with this id."))
    return present.member_summary(found)


@router.get("/badges", response={200: schemas.BadgePage, **READ_ERRORS}, auth=members_read)
def badges_list(
    request: HttpRequest,
    member_id: int | None = None,
    enabled: bool | None = None,
    cursor: str | None = None,
    limit: Limit | None = None,
) -> schemas.BadgePage:
    """Badges, newest issued first."""
    rows = api_selectors.staff_badges(user(request), member_id=member_id, enabled=enabled)
    page, next_cursor = paginate(rows, key="issued_at", descending=True, cursor=cursor, limit=limit)
    return schemas.BadgePage(items=[present.badge(b) for b in page], next_cursor=next_cursor)


@router.post(
    "/members/{member_id}/badges",
    response={201: schemas.Badge, **WRITE_ERRORS},
    auth=members_write,
)
def badge_assign(
    request: HttpRequest, member_id: int, body: schemas.BadgeAssign
) -> Status[schemas.Badge]:
    """Give a member a badge, as the front desk does: the UID is normalised and must not be
    enabled for anyone else (409 `badge`)."""
    found = api_selectors.staff_member(user(request), member_id)
    if found is None:
        raise NotFound(_("There is no member with this id."))
    with recorded_write(request, "badge assigned", "badge") as record:
        made = membership_services.badge_assign(member=found, uid=body.uid, actor=user(request))
        record["id"] = made.pk
    return Status(201, present.badge(made))


@router.post(
    "/badges/{badge_id}/disable",
    response={200: schemas.Badge, **WRITE_ERRORS},
    auth=members_write,
)
def badge_disable(request: HttpRequest, badge_id: int, body: schemas.BadgeDisable) -> schemas.Badge:
    """Disable a lost or stolen card at once: the gates stop its sessions and drop it from their
    allow-lists. The record stays, with the reason."""
    found = api_selectors.staff_badge(user(request), badge_id)
    if found is None:
        raise NotFound(_("There is no badge with this id."))
    with recorded_write(request, "badge disabled", "badge") as record:
        disabled = membership_services.badge_disable(
            badge=found, reason=body.reason, actor=user(request)
        )
        record["id"] = disabled.pk
    return present.badge(disabled)


@router.get(
    "/access-events", response={200: schemas.AccessEventPage, **READ_ERRORS}, auth=access_read
)
def access_events_list(
    request: HttpRequest,
    start: Instant | None = None,
    end: Instant | None = None,
    machine: str | None = Query(None, max_length=50),
    member_id: int | None = None,
    allowed: bool | None = None,
    location: str | None = Query(None, max_length=50),
    cursor: str | None = None,
    limit: Limit | None = None,
) -> schemas.AccessEventPage:
    """Access decisions in [start, end), newest first (the site's allow-list builds left out)."""
    check_span(start, end)
    rows = api_selectors.staff_access_events(
        user(request),
        start=start,
        end=end,
        machine=machine,
        member_id=member_id,
        allowed=allowed,
        location=location,
    )
    page, next_cursor = paginate(rows, key="at", descending=True, cursor=cursor, limit=limit)
    return schemas.AccessEventPage(
        items=[present.access_event(e) for e in page], next_cursor=next_cursor
    )


@router.get("/usage-sessions", response={200: schemas.UsagePage, **READ_ERRORS}, auth=access_read)
def usage_sessions_list(
    request: HttpRequest,
    start: Instant | None = None,
    end: Instant | None = None,
    machine: str | None = Query(None, max_length=50),
    member_id: int | None = None,
    location: str | None = Query(None, max_length=50),
    cursor: str | None = None,
    limit: Limit | None = None,
) -> schemas.UsagePage:
    """Relay-on sessions of every member overlapping [start, end), newest first."""
    check_span(start, end)
    rows = api_selectors.staff_usage_sessions(
        user(request),
        start=start,
        end=end,
        machine=machine,
        member_id=member_id,
        location=location,
    )
    page, next_cursor = paginate(
        rows, key="started_at", descending=True, cursor=cursor, limit=limit
    )
    return schemas.UsagePage(items=[present.usage(u) for u in page], next_cursor=next_cursor)


@router.get("/gates", response={200: schemas.GatePage, **READ_ERRORS}, auth=access_read)
def gates_list(
    request: HttpRequest,
    location: str | None = Query(None, max_length=50),
    cursor: str | None = None,
    limit: Limit | None = None,
) -> schemas.GatePage:
    """Gate devices and their state: online, last seen, relay on and until when."""
    rows = api_selectors.staff_gates(user(request), location=location)
    page, next_cursor = paginate(rows, key="pk", descending=False, cursor=cursor, limit=limit)
    return schemas.GatePage(items=[present.gate(g) for g in page], next_cursor=next_cursor)


@router.get("/gates/{device_id}", response={200: schemas.Gate, **READ_ERRORS}, auth=access_read)
def gate_detail(request: HttpRequest, device_id: str) -> schemas.Gate:
    found = api_selectors.staff_gate(user(request), device_id)
    if found is None:
        raise NotFound(_("There is no gate with this device id."))
    return present.gate(found)
