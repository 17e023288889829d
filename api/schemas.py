"""The API's request and response shapes (pydantic, through django-ninja): its public contract.

Inputs forbid unknown fields and take only aware datetimes (ISO 8601 with an offset or Z), so a
typo or a time without a zone is a 422, never a silent guess.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ConfigDict, Field

_ISO_8601 = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _text_only(value: Any) -> Any:
    """A number is not a time: refuse it instead of reading it as seconds since 1970."""
    if not (isinstance(value, str) and _ISO_8601.match(value)):
        raise ValueError(
            "give a date and time as ISO 8601 text with an offset, e.g. 2030-01-07T10:00:00Z"
        )
    return value


def _in_utc(value: datetime) -> datetime:
    """The same instant in UTC: databases take only offsets a real zone has (PostgreSQL refuses
    +18:49). Years outside 1900 to 2999 are refused: nothing here happens then, and the rules'
    look-backs and look-aheads from such an instant would leave the calendar."""
    try:
        instant = value.astimezone(UTC)
    except OverflowError:
        instant = None
    if instant is None or not 1900 <= instant.year <= 2999:
        raise ValueError("give an instant between the years 1900 and 2999")
    return instant


# An instant in ISO 8601 with its offset ("Z" or "+09:00"); a bare local time is refused.
Instant = Annotated[AwareDatetime, BeforeValidator(_text_only), AfterValidator(_in_utc)]


# A page size: how many items a list answers with (a cursor gives the next ones).
Limit = Annotated[int, Field(ge=1, le=100, description="Items per page, 1 to 100 (default 50).")]


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


class FieldError(Schema):
    loc: list[str | int]
    message: str


class ErrorBody(Schema):
    code: str = Field(description="A stable code to branch on, e.g. `overlap`, `token_expired`.")
    message: str = Field(description="A sentence for a person, the same the site shows.")
    fields: list[FieldError] | None = None


class Error(Schema):
    error: ErrorBody


class Page(Schema):
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class MachineRef(Schema):
    id: int
    slug: str
    name: str


class Membership(Schema):
    status: str
    plan: str
    current_period_end: datetime | None


class Profile(Schema):
    id: int
    email: str
    first_name: str
    last_name: str
    phone: str
    joined_at: datetime
    membership: Membership | None
    waiver_signed: bool
    has_badge: bool
    may_use_machines: bool


class Booking(Schema):
    id: int
    machine: MachineRef
    member_id: int
    start: datetime
    end: datetime
    state: str
    created_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str
    checked_in_at: datetime | None
    extended_count: int


class BookingPage(Page):
    items: list[Booking]


class BookingCreate(Input):
    machine: str = Field(min_length=1, max_length=50, description="The machine's slug.")
    start: Instant
    end: Instant
    member_id: int | None = Field(
        default=None, description="Staff with booking rights may book for another member."
    )


class BookingCancel(Input):
    reason: str = Field(default="", max_length=500)


class BookingExtend(Input):
    end: Instant


class Certification(Schema):
    slug: str
    name: str


class Location(Schema):
    slug: str
    name: str
    time_zone: str = Field(description="IANA zone the location's times are shown in.")


class Machine(Schema):
    id: int
    slug: str
    name: str
    location: Location
    area: str | None = Field(description="The room it stands in, if set.")
    state: str
    state_reason: str
    required_certification: Certification | None
    slot_minutes: int
    min_minutes: int
    max_minutes: int
    book_ahead_days: int
    buffer_minutes: int


class MachinePage(Page):
    items: list[Machine]


class Span(Schema):
    start: datetime
    end: datetime


class Busy(Span):
    kind: str = Field(description="`booked`, `maintenance` or `class`.")
    label: str


class Availability(Schema):
    machine: MachineRef
    start: datetime
    end: datetime
    opening: list[Span] | None = Field(
        description="When it is open in the span; null when the machine has no opening hours."
    )
    busy: list[Busy]
    free: list[Span] = Field(description="Open and not busy (each rule still applies).")


class HeldCertification(Schema):
    certification: Certification
    state: str = Field(description="`valid`, `expiring`, `expired` or `revoked`.")
    granted_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class ClassSession(Schema):
    id: int
    certification: Certification
    start: datetime
    end: datetime
    place: str
    capacity: int
    seats_free: int
    cancelled: bool
    my_enrollment: str | None = Field(description="`enrolled`, `waitlisted` or null.")


class ClassPage(Page):
    items: list[ClassSession]


class Enrollment(Schema):
    id: int
    session_id: int
    status: str
    created_at: datetime
    cancelled_at: datetime | None


class UsageSession(Schema):
    id: int
    machine: MachineRef
    member_id: int | None
    booking_id: int | None
    started_at: datetime
    ended_at: datetime | None
    grant_end: datetime | None
    end_reason: str


class UsagePage(Page):
    items: list[UsageSession]


class MemberSummary(Schema):
    id: int
    email: str
    first_name: str
    last_name: str
    joined_at: datetime
    membership_status: str | None


class MemberPage(Page):
    items: list[MemberSummary]


class Badge(Schema):
    id: int
    uid: str
    member_id: int
    enabled: bool
    issued_at: datetime
    disabled_at: datetime | None
    disabled_reason: str


class BadgeAssign(Input):
    uid: str = Field(
        min_length=1,
        max_length=64,
        description="The card's UID as a reader gives it (hex, any case, with or without separators).",
    )


class BadgeDisable(Input):
    reason: str = Field(
        min_length=1, max_length=500, description="Why: lost, stolen, left the space..."
    )


class BadgePage(Page):
    items: list[Badge]


class AccessEvent(Schema):
    id: int
    at: datetime
    source: str
    badge_uid: str
    device_id: str | None
    machine: MachineRef
    member_id: int | None
    booking_id: int | None
    allowed: bool
    reason: str
    reason_sentence: str
    grant_end: datetime | None
    decision_microseconds: int


class AccessEventPage(Page):
    items: list[AccessEvent]


class Gate(Schema):
    device_id: str
    machine: MachineRef
    enabled: bool
    disabled_reason: str
    online: bool
    last_seen: datetime | None
    relay_on: bool
    relay_grant_end: datetime | None
    firmware: str


class GatePage(Page):
    items: list[Gate]
