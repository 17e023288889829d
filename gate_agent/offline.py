"""Offline decisions from the last signed allow-list the site pushed to this gate."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from gate_agent.protocol import CLOCK_SKEW, AllowList, ProtocolError, allowlist_badge_hash
from gate_agent.protocol.signing import parse_signed

from .guard import Ignored, Rejected
from .storage import atomic_write

log = logging.getLogger(__name__)

REASON_ALLOWED = "offline_allowlist"
REASON_NOT_LISTED = "offline_not_listed"
REASON_NO_LIST = "offline_no_allowlist"
REASON_STALE = "offline_allowlist_stale"


@dataclass(frozen=True)
class OfflineDecision:
    allowed: bool
    reason: str
    grant_end: int | None = None


class AllowListStore:
    """Holds the newest authentic allow-list, on disk too, so it survives a restart offline.

    Versions only move forward, so an old list replayed by someone on the network is refused.
    """

    def __init__(self, path: Path, *, device_id: str, secret: str, max_age: float) -> None:
        self.path, self._device_id, self._secret = path, device_id, secret
        self._max_age = max_age
        self.current: AllowList | None = None
        if path.exists():
            try:
                self.current = parse_signed(
                    AllowList, path.read_bytes(), device_id=device_id, secret=secret
                )
            except (OSError, ProtocolError) as exc:
                # A corrupt or tampered file is no list at all: offline scans are then denied.
                log.error("Stored allow-list %s is not valid and is ignored: %s", path, exc)

    def offer(self, allowlist: AllowList, payload: bytes, now: float) -> None:
        """Adopt an authenticated allow-list if it is newer; raise `Ignored` or `Rejected`."""
        current = self.current
        if current is not None:
            if allowlist.version < current.version:
                raise Ignored(f"allow-list v{allowlist.version} is older than v{current.version}")
            if allowlist.version == current.version:
                if allowlist.sig == current.sig:
                    raise Ignored(f"allow-list v{allowlist.version} already held")
                raise Rejected(f"a different allow-list reuses version {allowlist.version}")
        if allowlist.issued_at > now + CLOCK_SKEW:
            raise Rejected("allow-list issued in the future (is the clock right?)")
        if not self._fresh(allowlist, now):
            raise Ignored(f"allow-list v{allowlist.version} is already out of date")
        atomic_write(self.path, payload)
        self.current = allowlist
        log.debug("Allow-list v%d adopted: %d windows", allowlist.version, len(allowlist.entries))

    def decide(self, badge_uid: str, now: float) -> OfflineDecision:
        """Allow until the end of a window covering `now`, from a fresh list only."""
        allowlist = self.current
        if allowlist is None:
            return OfflineDecision(False, REASON_NO_LIST)
        if not self._fresh(allowlist, now):
            return OfflineDecision(False, REASON_STALE)
        wanted = allowlist_badge_hash(badge_uid, self._secret)
        ends = [
            entry.window_end
            for entry in allowlist.entries
            if entry.badge_hash == wanted and entry.window_start <= now < entry.window_end
        ]
        if not ends:
            return OfflineDecision(False, REASON_NOT_LISTED)
        return OfflineDecision(True, REASON_ALLOWED, max(ends))

    def _fresh(self, allowlist: AllowList, now: float) -> bool:
        return now < allowlist.valid_until and now - allowlist.issued_at <= self._max_age
