"""The bookings' side of a change of a machine's rules (`equipment.consequences`).

`consequences` gathers the machine's bookings as plain values and asks the pure rule
(`rules.rule_change_consequences`) which ones the new rules break; `carry_out` cancels those it
makes unusable through `services.bookings_cancel_for_machine` (email, gates), inside the
change's transaction. Installed at start-up by `BookingsConfig.ready`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bookings import rules, services
from bookings.models import Booking
from bookings.selectors import QUOTA_STATES
from bookings.states import ACTIVE_STATES
from core.time import local_day_bounds, utc, week_start
from equipment.consequences import Affected, Consequences, RulesAfter
from equipment.models import Machine
from equipment.selectors import opening_intervals
from locations.zones import zone_of
from membership.models import User
from training.selectors import member_holds_certification


def _rules_in_force(after: RulesAfter) -> rules.RulesInForce:
    return rules.RulesInForce(
        certification_id=after.certification.pk if after.certification else None,
        weekly_hours_per_member=after.weekly_hours_per_member,
        daily_bookings_per_member=after.daily_bookings_per_member,
        buffer_minutes=after.buffer_minutes,
        opening=after.opening,
    )


def _why(consequence: rules.Consequence, *, after: RulesAfter, name: str) -> str:
    """The sentence staff read in the list and a member in the cancellation email."""
    words = {
        "machine": name,
        "certification": after.certification.name if after.certification else "",
        "hours": after.weekly_hours_per_member,
        "count": after.daily_bookings_per_member,
        "minutes": after.buffer_minutes,
    }
    sentences = [str(breach.sentence) % words for breach in consequence.breaches]
    text = "; ".join(sentences)
    return text[:1].upper() + text[1:] + "."


class BookingsUnderNewRules:
    """Implements `equipment.consequences.MachineBookings`."""

    def consequences(self, *, machine: Machine, after: RulesAfter, now: datetime) -> Consequences:
        zone = zone_of(machine)
        before = rules.RulesInForce(
            certification_id=machine.required_certification_id,
            weekly_hours_per_member=machine.weekly_hours_per_member,
            daily_bookings_per_member=machine.daily_bookings_per_member,
            buffer_minutes=machine.buffer_minutes,
            opening=tuple(
                sorted((i.weekday, i.opens, i.closes) for i in opening_intervals(machine))
            ),
        )
        # A booking already under way (a member at the machine, checked in or about to be) is
        # kept: new rules apply from now on, never by cutting the power mid-job. It still counts
        # towards its member's quotas, with the rest of the week.
        to_come = list(
            Booking.objects.filter(machine=machine, state__in=ACTIVE_STATES, start__gt=now)
            .select_related("member__user")
            .order_by("start", "id")
        )
        future = {booking.pk for booking in to_come}
        counted: list[Booking] = []
        if to_come:
            # The quotas count every booking of the weeks the bookings to come start in.
            first_day = utc(to_come[0].start).astimezone(zone).date()
            since, _ = local_day_bounds(week_start(first_day), zone)
            counted = list(
                Booking.objects.filter(
                    machine=machine,
                    state__in=QUOTA_STATES,
                    start__gte=since,
                    member_id__in={booking.member_id for booking in to_come},
                ).exclude(pk__in=future)
            )
        # Asked only of a new certification (one query a booking to come).
        certification = after.certification
        if certification is not None and certification.pk == machine.required_certification_id:
            certification = None
        slots = [
            rules.BookedSlot(
                booking.pk,
                booking.member_id,
                booking.start,
                booking.end,
                to_come=booking.pk in future,
                holds_machine=booking.state in ACTIVE_STATES,
                certified_after=certification is None
                or booking.pk not in future
                or member_holds_certification(
                    member=booking.member, certification=certification, at=max(booking.start, now)
                ),
            )
            for booking in [*counted, *to_come]
        ]
        found = rules.rule_change_consequences(
            before=before, after=_rules_in_force(after), bookings=slots, zone=zone
        )
        by_id = {booking.pk: booking for booking in to_come}
        affected = tuple(
            Affected(
                booking_id=consequence.booking_id,
                member=by_id[consequence.booking_id].member.display_name,
                start=by_id[consequence.booking_id].start,
                end=by_id[consequence.booking_id].end,
                cancelled=consequence.cancels,
                why=_why(consequence, after=after, name=machine.name),
            )
            for consequence in found
        )
        return Consequences(affected=affected, digest=rules.consequences_digest(found))

    def carry_out(
        self, *, machine: Machine, affected: Sequence[Affected], actor: User | None, now: datetime
    ) -> None:
        for one in affected:
            if one.cancelled:
                services.bookings_cancel_for_machine(
                    machine=machine,
                    bookings=Booking.objects.filter(pk=one.booking_id),
                    reason=one.why,
                    actor=actor,
                    now=now,
                )
