"""The one clock the services read by default.

Services that take an optional `now` fall back to `core.clock.now()`: a caller that already holds
the time (a batch job, a scan) passes it in, and tests freeze it with time-machine, which moves
this clock too because it wraps Django's.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    """The current time, aware (UTC)."""
    return timezone.now()
