"""The access log as CSV, one row at a time, so an export of any size streams in constant memory."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.utils import timezone

from access.models import AccessEvent
from core.spreadsheet import spreadsheet_cell
from locations.zones import zone_of

HEADER = [
    "time",
    "machine",
    "gate",
    "source",
    "badge_uid",
    "member",
    "email",
    "allowed",
    "reason",
    "reason_sentence",
    "grant_end",
    "booking",
    "decision_microseconds",
]


class _Echo:
    """A file-like object whose `write` hands the line back, for `csv.writer` to stream."""

    def write(self, value: str) -> str:
        return value


def access_log_csv(events: Iterable[AccessEvent]) -> Iterator[str]:
    """CSV lines for `events`: the header first, then one line per event."""
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    for event in events:
        yield writer.writerow([spreadsheet_cell(value) for value in _row(event)])


def _row(event: AccessEvent) -> list:
    member = event.member
    zone = zone_of(event)  # the machine's location: the wall clock the scan happened by
    return [
        timezone.localtime(event.at, zone).isoformat(),
        event.machine.name,
        event.device.device_id if event.device else "",
        event.get_source_display(),
        event.badge_uid,
        member.display_name if member else "",
        member.user.email if member else "",
        "yes" if event.allowed else "no",
        event.reason,
        event.reason_sentence,
        timezone.localtime(event.grant_end, zone).isoformat() if event.grant_end else "",
        event.booking_id or "",
        event.decision_microseconds,
    ]
