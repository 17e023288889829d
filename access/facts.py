"""Gathers the facts the access policy decides on: one SQL statement for any number of scans.

The statement is plain SQL that SQLite and PostgreSQL both run, so the code the gates rely on
is the code every test runs, on either database. It reads everything fresh at the scan's
instant: the machine's state and rules, the gate (a bridge caches gates: the statement confirms
the cached one is still enabled, on the same machine, with the same secret), whether another
bridge already answered the request, and the member's standing, waiver, chain, check-out,
roles, booking and day passes. What each fact means is said where the rule lives
(`membership.selectors`, `training.selectors`, `staffing.selectors`, `bookings.selectors`,
`equipment.daypasses`); the tests of each fact run on both databases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

from django.db import connection

from access.policy import AccessFacts
from bookings.selectors import check_in_opens
from bookings.states import BookingState
from core.time import local_day_bounds, utc
from equipment.daypasses.models import DayPassState
from equipment.models import Machine, MachineState
from gate_agent.badges import InvalidBadgeUID, normalize_badge_uid
from membership.models import MembershipStatus
from membership.selectors import grace_period
from staffing.models import Role

if TYPE_CHECKING:
    from access.models import GateDevice


@dataclass(frozen=True)
class Scan:
    """A badge presented at a machine (through `device`, for gate scans) at an instant."""

    badge_uid: str
    machine: Machine
    at: datetime
    device: GateDevice | None = None
    # The gate request's nonce, for scans that came through the bridge.
    request_nonce: str | None = None
    # A scan at the machine now is refused while another member's session runs there; an
    # allow-list window ahead is not (the gate itself never lets one session take over another).
    now: bool = True


@dataclass(frozen=True)
class GatheredFacts:
    facts: AccessFacts
    member_id: int | None = None
    # The booking covering the scan, and whether it still waits for its check-in.
    booking_id: int | None = None
    booking_confirmed: bool = False
    # False when the scan's gate is no longer as the caller knew it (disabled, moved to another
    # machine, given a new secret, removed): such a scan is not decided.
    gate_current: bool = True
    # The gate's request is in the access log already (another bridge answered it).
    answered: bool = False


# Whether a paid pass of the member opens the machine on each of the three days around the
# scan's UTC date (the local day at the machine's location is one of them): the pass names the
# location, and the machine or its certification (`equipment.daypasses.rules`). A second
# statement, only for scans by someone who is not a member in good standing there.
_OPENS_ON = """EXISTS (
        SELECT 1 FROM "equipment_daypass" dp
        WHERE dp.holder_id = s.member_id AND dp.state = '{paid}' AND dp.day = s.{day}
          AND EXISTS (SELECT 1 FROM equipment_daypassproduct_locations pl
                      WHERE pl.daypassproduct_id = dp.product_id AND pl.location_id = m.location_id)
          AND (EXISTS (SELECT 1 FROM equipment_daypassproduct_machines pm
                       WHERE pm.daypassproduct_id = dp.product_id AND pm.machine_id = m.id)
               OR EXISTS (SELECT 1 FROM equipment_daypassproduct_certifications pc
                          WHERE pc.daypassproduct_id = dp.product_id
                            AND pc.certification_id = m.required_certification_id)))"""
_PASSES = """WITH scan (n, member_id, machine_id, day_before, day_of, day_after) AS (VALUES {rows})
SELECT s.n, {before}, {of}, {after}
FROM scan s JOIN equipment_machine m ON m.id = s.machine_id
ORDER BY s.n"""
_OPENING_ROW = "(CAST(%s AS BIGINT), CAST(%s AS BIGINT), CAST(%s AS BIGINT), %s, %s, %s)"


# A grant of the chain's certification `c` that stands at the scan's instant: given, neither
# revoked nor expired yet (`training.selectors.grant_valid_at`).
_VALID_GRANT = """EXISTS (
            SELECT 1 FROM training_membercertification g
            WHERE g.member_id = b.member_id AND g.certification_id = c.certification_id
              AND g.granted_at <= s.at
              AND (g.revoked_at IS NULL OR g.revoked_at > s.at)
              AND (g.expires_at IS NULL OR g.expires_at > s.at))"""

# One row per scan, in the scans' order. `scan` holds the questions; `chain` each scan's
# machine's certification with its prerequisites, transitively (UNION stops at a cycle).
_STATEMENT = """WITH RECURSIVE
scan (n, uid, machine_id, device_id, secret, nonce, at, standing_from, opens_by, now)
    AS (VALUES {rows}),
picked AS (
    SELECT scan.*, (
        SELECT b.id FROM membership_badge b WHERE b.uid = scan.uid
        ORDER BY b.enabled DESC, b.issued_at DESC, b.id DESC LIMIT 1
    ) AS badge_id
    FROM scan
),
chain (n, certification_id) AS (
    SELECT scan.n, m.required_certification_id
    FROM scan JOIN equipment_machine m ON m.id = scan.machine_id
    WHERE m.required_certification_id IS NOT NULL
    UNION
    SELECT chain.n, p.to_certification_id
    FROM chain JOIN training_certification_prerequisites p
      ON p.from_certification_id = chain.certification_id
)
SELECT
    s.n,
    s.device_id IS NULL OR EXISTS (
        SELECT 1 FROM access_gatedevice d
        WHERE d.id = s.device_id AND d.enabled AND d.machine_id = s.machine_id
          AND d.secret = s.secret),
    s.nonce IS NOT NULL AND EXISTS (
        SELECT 1 FROM access_accessevent e
        WHERE e.device_id = s.device_id AND e.request_nonce = s.nonce),
    m.state,
    b.id,
    b.enabled,
    b.member_id,
    u.first_name,
    u.last_name,
    u.email,
    (ms.status = '{active}'
        AND (ms.current_period_end IS NULL OR ms.current_period_end > s.standing_from))
    OR (ms.status = '{past_due}' AND ms.current_period_end > s.standing_from),
    pn.all_locations OR EXISTS (
        SELECT 1 FROM membership_plan_locations pnl
        WHERE pnl.plan_id = pn.id AND pnl.location_id = m.location_id),
    EXISTS (
        SELECT 1 FROM membership_waiversignature ws
        WHERE ws.member_id = b.member_id AND ws.waiver_id = (
            SELECT w.id FROM membership_waiver w ORDER BY w.version DESC LIMIT 1)),
    EXISTS (
        SELECT 1 FROM access_emergencystop es
        WHERE es.machine_id = m.id AND es.cleared_at IS NULL),
    s.now = 1 AND EXISTS (
        SELECT 1 FROM access_usagesession us
        WHERE us.machine_id = m.id AND us.ended_at IS NULL AND us.grant_end > s.at
          AND (us.member_id IS NULL OR us.member_id <> b.member_id)),
    NOT EXISTS (
        SELECT 1 FROM chain c WHERE c.n = s.n AND NOT {valid_grant}),
    EXISTS (
        SELECT 1 FROM chain c
        WHERE c.n = s.n AND NOT {valid_grant}
          AND EXISTS (
            SELECT 1 FROM training_membercertification g
            WHERE g.member_id = b.member_id AND g.certification_id = c.certification_id
              AND g.granted_at <= s.at)),
    m.required_checkout_id IS NULL OR EXISTS (
        SELECT 1 FROM training_membercheckout k
        WHERE k.member_id = b.member_id AND k.checkout_id = m.required_checkout_id
          AND k.granted_at <= s.at AND (k.revoked_at IS NULL OR k.revoked_at > s.at)),
    EXISTS (
        SELECT 1 FROM training_certification_instructors ci
        WHERE ci.certification_id = m.required_certification_id AND ci.user_id = u.id)
    AND (
        u.is_superuser
        OR EXISTS (
            SELECT 1 FROM staffing_locationrole r
            WHERE r.user_id = u.id AND r.role IN ('{instructor}', '{staff}')
              AND (r.location_id IS NULL OR r.location_id = m.location_id))
        OR (
            NOT EXISTS (SELECT 1 FROM staffing_locationrole r WHERE r.user_id = u.id)
            AND m.location_id = (
                SELECT lo.id FROM locations_location lo
                ORDER BY CASE WHEN lo.archived_at IS NULL THEN 0 ELSE 1 END, lo.archived_at, lo.id
                LIMIT 1))),
    EXISTS (
        SELECT 1 FROM equipment_machine_maintainers mm
        WHERE mm.machine_id = m.id AND mm.user_id = u.id),
    bk.id,
    bk."end",
    bk.state,
    l.time_zone
FROM picked s
JOIN equipment_machine m ON m.id = s.machine_id
JOIN locations_location l ON l.id = m.location_id
LEFT JOIN membership_badge b ON b.id = s.badge_id
LEFT JOIN membership_member mb ON mb.id = b.member_id
LEFT JOIN membership_user u ON u.id = mb.user_id
LEFT JOIN membership_membership ms ON ms.member_id = mb.id
LEFT JOIN membership_plan pn ON pn.id = ms.plan_id
LEFT JOIN bookings_booking bk ON bk.id = (
    SELECT cover.id FROM bookings_booking cover
    WHERE cover.member_id = b.member_id AND cover.machine_id = m.id
      AND cover.state IN ('{confirmed}', '{checked_in}')
      AND cover.start <= s.opens_by AND cover."end" > s.at
    ORDER BY cover.start, cover.id LIMIT 1)
ORDER BY s.n"""

# The integer columns are cast so that PostgreSQL types them even when a column is NULL in
# every row (scans from no gate); each instant and day travels as a typed parameter.
_ROW = "(CAST(%s AS BIGINT), %s, CAST(%s AS BIGINT), CAST(%s AS BIGINT), %s, %s, %s, %s, %s, %s)"

# SQLite allows 32,766 parameters a statement: scans beyond this many go in another statement.
CHUNK = 1000


def _statement(rows: int) -> str:
    return _STATEMENT.format(
        rows=", ".join([_ROW] * rows),
        valid_grant=_VALID_GRANT,
        active=MembershipStatus.ACTIVE.value,
        past_due=MembershipStatus.PAST_DUE.value,
        instructor=Role.INSTRUCTOR.value,
        staff=Role.STAFF.value,
        confirmed=BookingState.CONFIRMED.value,
        checked_in=BookingState.CHECKED_IN.value,
    )


def _passes_statement(rows: int) -> str:
    return _PASSES.format(
        rows=", ".join([_OPENING_ROW] * rows),
        **{
            name: _OPENS_ON.format(paid=DayPassState.PAID.value, day=f"day_{name}")
            for name in ("before", "of", "after")
        },
    )


def _canonical(uid: str) -> str | None:
    try:
        return normalize_badge_uid(uid)
    except InvalidBadgeUID:
        return None


def _parameters(n: int, scan: Scan, *, grace: timedelta, lead: timedelta) -> list:
    instant = connection.ops.adapt_datetimefield_value
    at = utc(scan.at)
    # Only a gate's own request is checked against the gate as the bridge cached it.
    device = scan.device if scan.request_nonce is not None else None
    return [
        n,
        _canonical(scan.badge_uid),
        scan.machine.pk,
        device.pk if device is not None else None,
        device.secret if device is not None else None,
        scan.request_nonce,
        instant(at),
        # In good standing until the grace period after the paid-through date has passed.
        instant(at - grace),
        # A booking covers the scan from the moment its check-in opens.
        instant(at + lead),
        1 if scan.now else 0,
    ]


class _Row(NamedTuple):
    """A row of the statement, column by column."""

    n: int
    gate_current: bool
    answered: bool
    machine_state: str
    badge_id: int | None
    badge_enabled: bool
    member_id: int | None
    first_name: str
    last_name: str
    email: str
    in_good_standing: bool
    plan_covers: bool
    waiver_signed: bool
    stopped: bool
    in_use: bool
    certified: bool
    lapsed: bool
    checkout_held: bool
    is_instructor: bool
    is_maintainer: bool
    booking_id: int | None
    booking_end: datetime | None
    booking_state: str | None
    time_zone: str


def _aware(value: datetime | None) -> datetime | None:
    """A timestamp as either database returns it (SQLite: naive, in UTC)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _day_pass_until(at: datetime, time_zone: str, passes: Sequence) -> datetime | None:
    """The end of the pass day that opens the machine at `at`: the next local midnight at its
    location, when a pass is for the local day there (`pass_open_until`). `passes`: whether
    one is for the day before, the day of and the day after `at`'s UTC date."""
    zone = ZoneInfo(time_zone)
    at = utc(at)
    local_day: date = at.astimezone(zone).date()
    if not passes[(local_day - at.date()).days + 1]:
        return None
    return local_day_bounds(local_day, zone)[1]


def _cursor_rows(sql: str, parameters: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return cursor.fetchall()


def _pass_days(lacking: list[tuple[Scan, _Row]]) -> dict[int, tuple]:
    """By scan number: whether a pass of its member opens its machine on each day around it."""
    day = connection.ops.adapt_datefield_value
    parameters = []
    for scan, row in lacking:
        today = utc(scan.at).date()
        parameters += [row.n, row.member_id, scan.machine.pk]
        parameters += [day(today + timedelta(days=shift)) for shift in (-1, 0, 1)]
    rows = _cursor_rows(_passes_statement(len(lacking)), parameters)
    return {n: passes for n, *passes in rows}


def _facts(scan: Scan, row: _Row, passes: Sequence | None) -> AccessFacts:
    """The facts of a scan by a known badge; `passes` (`_pass_days`) for someone who is not a
    member in good standing here, None for one who is."""
    return AccessFacts(
        at=scan.at,
        badge_known=True,
        badge_enabled=bool(row.badge_enabled),
        # Member.display_name: the user's full name, else their email.
        member_name=f"{row.first_name} {row.last_name}".strip() or row.email,
        membership_in_good_standing=bool(row.in_good_standing),
        plan_covers_location=bool(row.plan_covers),
        waiver_signed=bool(row.waiver_signed),
        machine_in_service=row.machine_state == MachineState.IN_SERVICE,
        machine_retired=row.machine_state == MachineState.RETIRED,
        machine_emergency_stopped=bool(row.stopped),
        machine_in_use_by_another=bool(row.in_use),
        certified=bool(row.certified),
        certification_lapsed=bool(row.lapsed),
        local_checkout_held=bool(row.checkout_held),
        is_instructor=bool(row.is_instructor),
        is_maintainer=bool(row.is_maintainer),
        booking_end=_aware(row.booking_end),
        day_pass_until=None if passes is None else _day_pass_until(scan.at, row.time_zone, passes),
    )


def _gather(scans: Sequence[Scan]) -> list[GatheredFacts]:
    grace, lead = grace_period(), check_in_opens()
    parameters = [
        value
        for n, scan in enumerate(scans)
        for value in _parameters(n, scan, grace=grace, lead=lead)
    ]
    read = [
        (scans[row.n], row)
        for row in map(_Row._make, _cursor_rows(_statement(len(scans)), parameters))
    ]
    lacking = [
        (scan, row)
        for scan, row in read
        if row.badge_id is not None and not (row.in_good_standing and row.plan_covers)
    ]
    passes = _pass_days(lacking) if lacking else {}
    gathered = []
    for scan, row in read:
        current, answered = bool(row.gate_current), bool(row.answered)
        if row.badge_id is None:
            unknown = AccessFacts(at=scan.at)
            gathered.append(GatheredFacts(unknown, gate_current=current, answered=answered))
            continue
        gathered.append(
            GatheredFacts(
                _facts(scan, row, passes.get(row.n)),
                row.member_id,
                row.booking_id,
                row.booking_state == BookingState.CONFIRMED,
                current,
                answered,
            )
        )
    return gathered


def gather_facts_many(scans: Sequence[Scan]) -> list[GatheredFacts]:
    """The facts of each scan, in order: one statement for up to `CHUNK` scans, and one more
    for the day passes of those by someone who is not a member in good standing there."""
    gathered: list[GatheredFacts] = []
    for start in range(0, len(scans), CHUNK):
        gathered += _gather(scans[start : start + CHUNK])
    return gathered
