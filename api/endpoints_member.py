"""Member operations: the caller's profile, bookings, machines, certifications, classes, usage.

Writes go through the same services as the site, so the same rules refuse with the same sentence.
Another member's objects are simply not found (404): their existence is not disclosed.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from api import auth, present, schemas
from api import selectors as api_selectors
from api.errors import ApiError, Forbidden, NotFound
from api.pagination import paginate
from api.responses import READ_ERRORS, WRITE_ERRORS, check_span, recorded_write, user
from api.schemas import Instant, Limit
from bookings import services as booking_services
from bookings.models import Booking
from bookings.states import BookingState
from core import clock
from membership.models import Member
from membership.selectors import member_may_use_machines, member_signed_current_waiver
from training import services as training_services
from training.models import ClassSession
from training.selectors import member_active_enrollment, member_certification_summary

router = Router(tags=["member"])


def _member(request: HttpRequest) -> Member:
    member = api_selectors.member_of(user(request))
    if member is None:
        raise NotFound(_("This account has no member profile."), code="no_member")
    return member


@router.get("/me", response={200: schemas.Profile, **READ_ERRORS}, auth=auth.own)
def profile(request: HttpRequest) -> schemas.Profile:
    """The caller's profile and whether they may use machines now."""
    member = _member(request)
    membership = getattr(member, "membership", None)
    return schemas.Profile(
        id=member.pk,
        email=member.user.email,
        first_name=member.user.first_name,
        last_name=member.user.last_name,
        phone=member.phone,
        joined_at=member.joined_at,
        membership=None
        if membership is None
        else schemas.Membership(
            status=membership.status,
            plan=membership.plan.name,
            current_period_end=membership.current_period_end,
        ),
        waiver_signed=member_signed_current_waiver(member),
        has_badge=member.badges.filter(enabled=True).exists(),
        may_use_machines=member_may_use_machines(member),
    )


@router.get("/bookings", response={200: schemas.BookingPage, **READ_ERRORS}, auth=auth.own)
def bookings_list(
    request: HttpRequest,
    start: Instant | None = None,
    end: Instant | None = None,
    state: BookingState | None = None,
    cursor: str | None = None,
    limit: Limit | None = None,
) -> schemas.BookingPage:
    """The caller's bookings overlapping [start, end), latest start first."""
    check_span(start, end)
    rows = api_selectors.member_bookings(_member(request), start=start, end=end, state=state)
    page, next_cursor = paginate(rows, key="start", descending=True, cursor=cursor, limit=limit)
    return schemas.BookingPage(items=[present.booking(b) for b in page], next_cursor=next_cursor)


@router.get("/bookings/{booking_id}", response={200: schemas.Booking, **READ_ERRORS}, auth=auth.own)
def booking_detail(request: HttpRequest, booking_id: int) -> schemas.Booking:
    found = api_selectors.member_booking(_member(request), booking_id)
    if found is None:
        raise NotFound(_("You have no booking with this id."))
    return present.booking(found)


@router.post("/bookings", response={201: schemas.Booking, **WRITE_ERRORS}, auth=auth.write)
def booking_create(request: HttpRequest, body: schemas.BookingCreate) -> Status[schemas.Booking]:
    """Book a machine: every booking rule of the site applies (docs/bookings.md)."""
    actor = user(request)
    member = _member(request) if body.member_id is None else None
    if member is None:
        if not actor.has_perm("bookings.manage_bookings"):
            raise Forbidden(_("You can only book for yourself."), code="not_yours")
        member = Member.objects.filter(pk=body.member_id).first()
        if member is None:
            raise NotFound(_("There is no member with this id."))
    machine = api_selectors.machine_by_slug(body.machine)
    if machine is None:
        raise NotFound(_("There is no bookable machine with this slug."))
    with recorded_write(request, "booking created", "booking") as record:
        made = booking_services.booking_create(
            member=member, machine=machine, start=body.start, end=body.end, actor=actor
        )
        record["id"] = made.pk
    return Status(201, present.booking(made))


def _own_booking(request: HttpRequest, booking_id: int) -> Booking:
    found = api_selectors.member_booking(_member(request), booking_id)
    if found is None:
        raise NotFound(_("You have no booking with this id."))
    return found


@router.post(
    "/bookings/{booking_id}/cancel",
    response={200: schemas.Booking, **WRITE_ERRORS},
    auth=auth.write,
)
def booking_cancel(
    request: HttpRequest, booking_id: int, body: schemas.BookingCancel
) -> schemas.Booking:
    """Cancel one of the caller's bookings, up to its start."""
    found = _own_booking(request, booking_id)
    with recorded_write(request, "booking cancelled", "booking") as record:
        record["id"] = found.pk
        done = booking_services.booking_cancel(
            booking=found, actor=user(request), reason=body.reason
        )
    return present.booking(done)


@router.post(
    "/bookings/{booking_id}/extend",
    response={200: schemas.Booking, **WRITE_ERRORS},
    auth=auth.write,
)
def booking_extend(
    request: HttpRequest, booking_id: int, body: schemas.BookingExtend
) -> schemas.Booking:
    """Extend the caller's running booking to a later end, if the machine is free."""
    found = _own_booking(request, booking_id)
    with recorded_write(request, "booking extended", "booking") as record:
        record["id"] = found.pk
        done = booking_services.booking_extend(booking=found, new_end=body.end, actor=user(request))
    return present.booking(done)


@router.get("/machines", response={200: schemas.MachinePage, **READ_ERRORS}, auth=auth.own)
def machines_list(
    request: HttpRequest,
    location: str | None = Query(None, max_length=50),
    cursor: str | None = None,
    limit: Limit | None = None,
) -> schemas.MachinePage:
    """Bookable machines, with their location and booking rules; `location` is a location slug."""
    rows = api_selectors.machines(location=location)
    page, next_cursor = paginate(rows, key="pk", descending=False, cursor=cursor, limit=limit)
    return schemas.MachinePage(items=[present.machine(m) for m in page], next_cursor=next_cursor)


@router.get("/machines/{slug}", response={200: schemas.Machine, **READ_ERRORS}, auth=auth.own)
def machine_detail(request: HttpRequest, slug: str) -> schemas.Machine:
    found = api_selectors.machine_by_slug(slug)
    if found is None:
        raise NotFound(_("There is no bookable machine with this slug."))
    return present.machine(found)


@router.get(
    "/machines/{slug}/availability",
    response={200: schemas.Availability, **READ_ERRORS},
    auth=auth.own,
)
def machine_availability(
    request: HttpRequest, slug: str, start: Instant, end: Instant
) -> schemas.Availability:
    """When the machine is open, held and free in [start, end) (at most 92 days)."""
    check_span(start, end, required=True)
    found = api_selectors.machine_by_slug(slug)
    if found is None:
        raise NotFound(_("There is no bookable machine with this slug."))
    seen = api_selectors.machine_availability(found, start=start, end=end)
    return schemas.Availability(
        machine=present.machine_ref(found),
        start=start,
        end=end,
        opening=None if seen.opening is None else [present.span(s, e) for s, e in seen.opening],
        busy=[schemas.Busy(start=s, end=e, kind=k, label=lab) for s, e, k, lab in seen.busy],
        free=[present.span(s, e) for s, e in seen.free],
    )


@router.get(
    "/certifications",
    response={200: list[schemas.HeldCertification], **READ_ERRORS},
    auth=auth.own,
)
def certifications(request: HttpRequest) -> list[schemas.HeldCertification]:
    """The caller's certifications: the grant that counts now for each, and its state."""
    held = member_certification_summary(_member(request), at=clock.now())
    return [
        schemas.HeldCertification(
            certification=schemas.Certification(
                slug=h.certification.slug, name=h.certification.name
            ),
            state=h.state,
            granted_at=h.grant.granted_at,
            expires_at=h.grant.expires_at,
            revoked_at=h.grant.revoked_at,
        )
        for h in held
    ]


@router.get("/classes", response={200: schemas.ClassPage, **READ_ERRORS}, auth=auth.own)
def classes_list(
    request: HttpRequest,
    start: Instant | None = None,
    end: Instant | None = None,
    location: str | None = Query(None, max_length=50),
    cursor: str | None = None,
    limit: Limit | None = None,
) -> schemas.ClassPage:
    """Class sessions overlapping [start, end), soonest first, with free seats and your place."""
    check_span(start, end)
    member = _member(request)
    rows = api_selectors.class_sessions(start=start, end=end, location=location)
    page, next_cursor = paginate(rows, key="start", descending=False, cursor=cursor, limit=limit)
    mine = api_selectors.member_enrollment_states(member, [s.pk for s in page])
    return schemas.ClassPage(
        items=[present.class_session(s, mine=mine.get(s.pk)) for s in page],
        next_cursor=next_cursor,
    )


def _session(session_id: int) -> ClassSession:
    found = api_selectors.class_sessions(start=None, end=None).filter(pk=session_id).first()
    if found is None:
        raise NotFound(_("There is no class session with this id."))
    return found


@router.post(
    "/classes/{session_id}/enrol",
    response={201: schemas.Enrollment, **WRITE_ERRORS},
    auth=auth.write,
)
def class_enrol(request: HttpRequest, session_id: int) -> Status[schemas.Enrollment]:
    """Take a seat in the class, or a place on its waitlist when it is full."""
    session = _session(session_id)
    with recorded_write(request, "class enrolment", "enrollment") as record:
        made = training_services.enrollment_create(member=_member(request), session=session)
        record["id"] = made.pk
    return Status(201, present.enrollment(made))


@router.post(
    "/classes/{session_id}/cancel",
    response={200: schemas.Enrollment, **WRITE_ERRORS},
    auth=auth.write,
)
def class_cancel(request: HttpRequest, session_id: int) -> schemas.Enrollment:
    """Give up your seat or waitlist place in the class, before it starts."""
    session = _session(session_id)
    enrollment = member_active_enrollment(_member(request), session)
    if enrollment is None:
        raise ApiError(_("You are not enrolled in this class."), code="not_enrolled")
    with recorded_write(request, "class enrolment cancelled", "enrollment") as record:
        record["id"] = enrollment.pk
        done = training_services.enrollment_cancel(enrollment=enrollment, actor=user(request))
    return present.enrollment(done)


@router.get("/usage", response={200: schemas.UsagePage, **READ_ERRORS}, auth=auth.own)
def usage_list(
    request: HttpRequest,
    start: Instant | None = None,
    end: Instant | None = None,
    cursor: str | None = None,
    limit: Limit | None = None,
) -> schemas.UsagePage:
    """The caller's machine time (relay-on sessions) overlapping [start, end), newest first."""
    check_span(start, end)
    rows = api_selectors.member_usage(_member(request), start=start, end=end)
    page, next_cursor = paginate(
        rows, key="started_at", descending=True, cursor=cursor, limit=limit
    )
    return schemas.UsagePage(items=[present.usage(u) for u in page], next_cursor=next_cursor)
