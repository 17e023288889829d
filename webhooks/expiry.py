"""Certifications expire with time, not by anyone's action: a periodic scan announces each once,
keeping how far it has looked (EventCursor)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from core import events
from training.models import MemberCertification
from webhooks.events import EventType
from webhooks.models import EventCursor

CURSOR = "certification.expired"


def certifications_expired_announce(*, now: datetime) -> int:
    """Emit certification.expired for every unrevoked grant whose expiry passed since the last
    scan (the first scan starts now: grants that expired before webhooks existed stay quiet)."""
    with transaction.atomic():
        cursor, created = EventCursor.objects.select_for_update().get_or_create(
            name=CURSOR, defaults={"until": now}
        )
        if created or cursor.until >= now:
            return 0
        expired = list(
            MemberCertification.objects.filter(
                revoked_at__isnull=True, expires_at__gt=cursor.until, expires_at__lte=now
            )
            .select_related("member__user", "certification")
            .order_by("expires_at", "pk")
        )
        events.emit_each(EventType.CERTIFICATION_EXPIRED, expired)
        cursor.until = now
        cursor.save(update_fields=["until"])
    return len(expired)
