"""What a gate's own messages may make the bridge do: limits the bridge applies before any work.

A gate's MQTT password is all it takes to publish on its topics, and a status needs no signature,
so nothing a gate sends may cost the site more than a bounded amount of work.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F

from access.models import GateDevice
from access.outbox import outbox_allowlist
from core import clock
from gate_agent import protocol

log = logging.getLogger(__name__)
# A gate announcing itself online gets a fresh allow-list at most this often. It loses nothing
# in between: its latest list is retained on the broker and delivered when it subscribes.
ONLINE_ALLOWLIST_MIN_SECONDS = 60


def within_size_limit(messages: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The messages whose payload fits the protocol's limit; the others are logged and dropped
    before their topic is parsed or the database asked (the broker refuses them too)."""
    kept = []
    for topic, payload in messages:
        if len(payload) > protocol.MAX_PAYLOAD_BYTES:
            log.warning(
                "Dropped a %d-byte message on %r: over the protocol's %d-byte limit",
                len(payload),
                topic[:120],
                protocol.MAX_PAYLOAD_BYTES,
            )
        else:
            kept.append((topic, payload))
    return kept


def allowlist_after_online(device: GateDevice, *, now: datetime | None = None) -> bool:
    """Queue a fresh allow-list for a gate that came online, unless one was built for it less than
    ONLINE_ALLOWLIST_MIN_SECONDS ago (by any bridge, or the site): unsigned "online" statuses
    repeated by a gate cost one list per interval, not one each.

    The state is in the database, not in a bridge: every bridge reads every status, and the
    limit holds across all of them. An allow-list's version is at least the time it was built
    in milliseconds (`allowlist._next_version`), so it says when the last one was built.
    """
    now = now or clock.now()
    due_before = int((now - timedelta(seconds=ONLINE_ALLOWLIST_MIN_SECONDS)).timestamp() * 1000)
    with transaction.atomic():
        # An UPDATE, not a read: it takes the row's write lock (on SQLite too), so of several
        # bridges handling the same status one builds the list and the others then see it built.
        claimed = GateDevice.objects.filter(pk=device.pk, allowlist_version__lt=due_before).update(
            allowlist_version=F("allowlist_version")
        )
        if not claimed:
            log.info("Gate %s came online with a recent allow-list; none rebuilt", device.device_id)
            return False
        outbox_allowlist(devices=[device], now=now)
        return True
