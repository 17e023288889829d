"""Build signed site -> agent messages; used by the site's MQTT bridge and by tests."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from .messages import (
    ACTION_EXTEND,
    ACTION_SWITCH_OFF,
    AccessReply,
    AllowList,
    AllowListEntry,
    BadgeRequest,
    Command,
)
from .signing import allowlist_badge_hash, sign

# Lifetimes. The agent refuses a reply or command whose lifetime exceeds MAX_MESSAGE_TTL (so its
# replay cache stays small) and tolerates CLOCK_SKEW seconds between its clock and the site's.
REPLY_TTL = 30
COMMAND_TTL = 60
MAX_MESSAGE_TTL = 300
CLOCK_SKEW = 30


def new_nonce() -> str:
    """A random request nonce or command id (128 bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def build_reply(
    request: BadgeRequest,
    *,
    secret: str,
    allowed: bool,
    reason: str,
    message: str,
    now: float,
    member_name: str | None = None,
    grant_end: int | None = None,
    ttl: int = REPLY_TTL,
) -> AccessReply:
    """The signed answer to `request`: carries its nonce and expires `ttl` seconds from `now`."""
    issued_at = int(now)
    return sign(
        AccessReply(
            device_id=request.device_id,
            nonce=request.nonce,
            allowed=allowed,
            reason=reason,
            message=message,
            member_name=member_name,
            grant_end=grant_end if allowed else None,
            issued_at=issued_at,
            expires_at=issued_at + ttl,
        ),
        secret,
    )


def build_command(
    *,
    device_id: str,
    secret: str,
    action: str,
    reason: str,
    now: float,
    message: str = "",
    grant_end: int | None = None,
    only_badges: Iterable[str] = (),
    ttl: int = COMMAND_TTL,
    command_id: str | None = None,
) -> Command:
    """A signed `switch_off` or `extend` (to `grant_end`) command, with a fresh command id unless
    `command_id` is given (the site re-signs a command it re-sends under the same id).

    With `only_badges` (UIDs) it acts only on a session started by one of those badges.
    """
    if action not in (ACTION_SWITCH_OFF, ACTION_EXTEND):
        raise ValueError(f"unknown command action {action!r}")
    issued_at = int(now)
    return sign(
        Command(
            device_id=device_id,
            command_id=command_id or new_nonce(),
            action=action,
            reason=reason,
            message=message,
            grant_end=grant_end if action == ACTION_EXTEND else None,
            badge_hashes=tuple(allowlist_badge_hash(uid, secret) for uid in only_badges),
            issued_at=issued_at,
            expires_at=issued_at + ttl,
        ),
        secret,
    )


def allowlist_entry(
    *, badge_uid: str, window_start: int, window_end: int, secret: str
) -> AllowListEntry:
    """One allow-list window; the UID is stored only as this device's keyed hash."""
    return AllowListEntry(
        badge_hash=allowlist_badge_hash(badge_uid, secret),
        window_start=window_start,
        window_end=window_end,
    )


def build_allowlist(
    *,
    device_id: str,
    secret: str,
    version: int,
    now: float,
    valid_until: int,
    entries: Iterable[AllowListEntry],
) -> AllowList:
    """A signed allow-list. `version` must grow with every list published to the device."""
    return sign(
        AllowList(
            device_id=device_id,
            version=version,
            issued_at=int(now),
            valid_until=valid_until,
            entries=tuple(entries),
        ),
        secret,
    )
