"""The gate messages as frozen dataclasses, with strict JSON parsing and serialisation.

Every message carries `v` (the message version), `type` and `device_id`. Every field is always
present on the wire (optional ones as `null`), so the signed canonical form is unambiguous.
Timestamps are integer UNIX seconds (UTC).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from gate_agent.badges import InvalidBadgeUID, normalize_badge_uid

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

from .fields import (
    CODE_RE,
    DEVICE_ID_RE,
    HASH_RE,
    NONCE_RE,
    SIG_RE,
    ProtocolError,
    check_keys,
    get_bool,
    get_choice,
    get_int,
    get_list,
    get_object,
    get_opt_bool,
    get_opt_int,
    get_opt_str,
    get_opt_time,
    get_str,
    get_str_list,
    get_time,
    load_object,
)

MESSAGE_VERSION = 1
MAX_ALLOWLIST_ENTRIES = 1000
MAX_EVENTS_PER_BATCH = 100
MAX_COMMAND_BADGES = 20
MAX_ACK_IDS = 100
MAX_SESSION_SECONDS = 7 * 24 * 3600

ACTION_SWITCH_OFF = "switch_off"
ACTION_EXTEND = "extend"
COMMAND_ACTIONS = frozenset({ACTION_SWITCH_OFF, ACTION_EXTEND})
STATUS_ONLINE = "online"
STATUS_OFFLINE = "offline"
EVENT_SESSION_START = "session_start"
EVENT_SESSION_EXTEND = "session_extend"
EVENT_SESSION_END = "session_end"
EVENT_OFFLINE_DECISION = "offline_decision"
EVENT_ALARM = "alarm"
EVENT_KINDS = frozenset(
    {
        EVENT_SESSION_START,
        EVENT_SESSION_EXTEND,
        EVENT_SESSION_END,
        EVENT_OFFLINE_DECISION,
        EVENT_ALARM,
    }
)
# Fields added after agent 0.1: absent when null (so older agents' events verify as they did),
# and read as null when absent.
EVENT_OPTIONAL = frozenset({"busy_seconds"})
PHASES = frozenset({"idle", "requesting", "on", "warning"})


def _badge_uid(data: dict[str, Any], key: str) -> str:
    raw = get_str(data, key, max_len=64)
    try:
        canonical = normalize_badge_uid(raw)
    except InvalidBadgeUID as exc:
        raise ProtocolError(f"{key}: {exc}") from None
    if canonical != raw:
        raise ProtocolError(f"{key}: must be the canonical form {canonical!r}")
    return canonical


def _opt_nonce(data: dict[str, Any], key: str) -> str | None:
    return None if data[key] is None else get_str(data, key, pattern=NONCE_RE)


def _opt_badge_uid(data: dict[str, Any], key: str) -> str | None:
    return None if data[key] is None else _badge_uid(data, key)


@dataclass(frozen=True, kw_only=True)
class Message:
    """Fields and JSON handling shared by every top-level message."""

    TYPE: ClassVar[str]
    SIGNED: ClassVar[bool] = True

    device_id: str

    def to_dict(self) -> dict[str, Any]:
        return {"v": MESSAGE_VERSION, "type": self.TYPE, **_plain_fields(self)}

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, payload: bytes | bytearray | str) -> Self:
        """Parse an untrusted payload; raises `ProtocolError` for anything but a valid message."""
        return cls.from_dict(load_object(payload))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        # Version and type first: the clearest error for a message from the future or the
        # wrong topic.
        version = data.get("v")
        if type(version) is not int or version != MESSAGE_VERSION:
            raise ProtocolError(f"unsupported message version {str(version)[:20]}")
        if data.get("type") != cls.TYPE:
            raise ProtocolError(
                f"expected a {cls.TYPE!r} message, got {str(data.get('type'))[:40]!r}"
            )
        check_keys(data, {"v", "type", *(f.name for f in dataclasses.fields(cls))}, cls.TYPE)
        fields = cls._parse(data)
        fields["device_id"] = get_str(data, "device_id", pattern=DEVICE_ID_RE)
        if cls.SIGNED:
            fields["sig"] = get_str(data, "sig", pattern=SIG_RE, max_len=64)
        return cls(**fields)

    @classmethod
    def _parse(cls, data: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, GateEvent):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain_fields(value)
    return value


def _plain_fields(value: DataclassInstance) -> dict[str, Any]:
    return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}


@dataclass(frozen=True, kw_only=True)
class BadgeRequest(Message):
    """Agent -> site: a badge was scanned; please decide."""

    TYPE = "request"
    nonce: str
    badge_uid: str
    sent_at: int
    firmware: str
    sig: str = ""

    @classmethod
    def _parse(cls, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "nonce": get_str(data, "nonce", pattern=NONCE_RE),
            "badge_uid": _badge_uid(data, "badge_uid"),
            "sent_at": get_time(data, "sent_at"),
            "firmware": get_str(data, "firmware", max_len=64),
        }


@dataclass(frozen=True, kw_only=True)
class AccessReply(Message):
    """Site -> agent: the decision for one request, bound to it by the request's nonce."""

    TYPE = "reply"
    nonce: str
    allowed: bool
    reason: str
    message: str
    member_name: str | None
    grant_end: int | None
    issued_at: int
    expires_at: int
    sig: str = ""

    @classmethod
    def _parse(cls, data: dict[str, Any]) -> dict[str, Any]:
        fields = {
            "nonce": get_str(data, "nonce", pattern=NONCE_RE),
            "allowed": get_bool(data, "allowed"),
            "reason": get_str(data, "reason", pattern=CODE_RE),
            "message": get_str(data, "message", max_len=500),
            "member_name": get_opt_str(data, "member_name"),
            "grant_end": get_opt_time(data, "grant_end"),
            "issued_at": get_time(data, "issued_at"),
            "expires_at": get_time(data, "expires_at"),
        }
        if fields["allowed"] != (fields["grant_end"] is not None):
            raise ProtocolError("reply: grant_end is required when allowed and null otherwise")
        return fields


@dataclass(frozen=True, kw_only=True)
class Command(Message):
    """Site -> agent: switch off now, or extend the running grant to `grant_end`.

    A command with `badge_hashes` (this device's keyed hashes, as in allow-lists) is about one
    member: it acts only on a session started by one of those badges, so a member losing access
    never stops someone else's job, and a member's longer booking never lengthens someone else's
    session. Without them (emergency stop, out of service) a switch-off stops whatever runs.
    """

    TYPE = "command"
    command_id: str
    action: str
    reason: str
    message: str
    grant_end: int | None
    badge_hashes: tuple[str, ...] = ()
    issued_at: int
    expires_at: int
    sig: str = ""

    @classmethod
    def _parse(cls, data: dict[str, Any]) -> dict[str, Any]:
        fields = {
            "command_id": get_str(data, "command_id", pattern=NONCE_RE),
            "action": get_choice(data, "action", COMMAND_ACTIONS),
            "reason": get_str(data, "reason", pattern=CODE_RE),
            "message": get_str(data, "message", max_len=500),
            "grant_end": get_opt_time(data, "grant_end"),
            "badge_hashes": get_str_list(
                data, "badge_hashes", max_items=MAX_COMMAND_BADGES, pattern=HASH_RE, max_len=64
            ),
            "issued_at": get_time(data, "issued_at"),
            "expires_at": get_time(data, "expires_at"),
        }
        if (fields["action"] == ACTION_EXTEND) != (fields["grant_end"] is not None):
            raise ProtocolError("command: grant_end is required for extend and null otherwise")
        return fields


@dataclass(frozen=True, kw_only=True)
class AllowListEntry:
    """One badge (as a keyed hash) allowed during one booking window."""

    badge_hash: str
    window_start: int
    window_end: int

    @classmethod
    def from_dict(cls, value: Any) -> AllowListEntry:
        data = get_object(value, "allow-list entry")
        check_keys(data, {"badge_hash", "window_start", "window_end"}, "allow-list entry")
        entry = cls(
            badge_hash=get_str(data, "badge_hash", pattern=HASH_RE, max_len=64),
            window_start=get_time(data, "window_start"),
            window_end=get_time(data, "window_end"),
        )
        if entry.window_end <= entry.window_start:
            raise ProtocolError("allow-list entry: window_end must be after window_start")
        return entry


@dataclass(frozen=True, kw_only=True)
class AllowList(Message):
    """Site -> agent (retained): who may use the machine offline, and until when the list holds."""

    TYPE = "allowlist"
    version: int
    issued_at: int
    valid_until: int
    entries: tuple[AllowListEntry, ...]
    sig: str = ""

    @classmethod
    def _parse(cls, data: dict[str, Any]) -> dict[str, Any]:
        entries = get_list(data, "entries", max_items=MAX_ALLOWLIST_ENTRIES)
        return {
            "version": get_int(data, "version"),
            "issued_at": get_time(data, "issued_at"),
            "valid_until": get_time(data, "valid_until"),
            "entries": tuple(AllowListEntry.from_dict(item) for item in entries),
        }


@dataclass(frozen=True, kw_only=True)
class Status(Message):
    """Agent (retained, and the last will): is the gate connected? Unsigned: presence only."""

    TYPE = "status"
    SIGNED = False
    state: str
    firmware: str

    @classmethod
    def _parse(cls, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "state": get_choice(data, "state", frozenset({STATUS_ONLINE, STATUS_OFFLINE})),
            "firmware": get_str(data, "firmware", max_len=64),
        }


@dataclass(frozen=True, kw_only=True)
class Heartbeat(Message):
    """Agent -> site, periodically: relay state and health."""

    TYPE = "heartbeat"
    sent_at: int
    firmware: str
    uptime: int
    relay_on: bool
    phase: str
    grant_end: int | None
    allowlist_version: int | None
    unsent_events: int
    sig: str = ""

    @classmethod
    def _parse(cls, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "sent_at": get_time(data, "sent_at"),
            "firmware": get_str(data, "firmware", max_len=64),
            "uptime": get_int(data, "uptime"),
            "relay_on": get_bool(data, "relay_on"),
            "phase": get_choice(data, "phase", PHASES),
            "grant_end": get_opt_time(data, "grant_end"),
            "allowlist_version": get_opt_int(data, "allowlist_version"),
            "unsent_events": get_int(data, "unsent_events"),
        }


@dataclass(frozen=True, kw_only=True)
class GateEvent:
    """One entry of the agent's event log; `id` is stable so the site can drop duplicates."""

    id: str
    kind: str
    at: int
    reason: str
    session_id: str | None
    badge_uid: str | None
    allowed: bool | None
    grant_end: int | None
    # session_end with a power meter: seconds the machine drew at least its busy threshold.
    busy_seconds: int | None = None

    def to_dict(self) -> dict[str, Any]:
        # Newer fields are sent only when set, so events (and their signatures) from agents that
        # predate them read, and verify, exactly as before.
        fields = _plain_fields(self)
        return {k: v for k, v in fields.items() if v is not None or k not in EVENT_OPTIONAL}

    @classmethod
    def from_dict(cls, value: Any) -> GateEvent:
        data = get_object(value, "event")
        # The signature covers the batch as sent, so an absent newer field is unambiguous.
        data = {**dict.fromkeys(EVENT_OPTIONAL - data.keys()), **data}
        check_keys(data, {f.name for f in dataclasses.fields(cls)}, "event")
        return cls(
            id=get_str(data, "id", pattern=NONCE_RE),
            kind=get_choice(data, "kind", EVENT_KINDS),
            at=get_time(data, "at"),
            reason=get_str(data, "reason", pattern=CODE_RE),
            session_id=_opt_nonce(data, "session_id"),
            badge_uid=_opt_badge_uid(data, "badge_uid"),
            allowed=get_opt_bool(data, "allowed"),
            grant_end=get_opt_time(data, "grant_end"),
            busy_seconds=_opt_seconds(data, "busy_seconds"),
        )


def _opt_seconds(data: dict[str, Any], key: str) -> int | None:
    return None if data[key] is None else get_int(data, key, hi=MAX_SESSION_SECONDS)


@dataclass(frozen=True, kw_only=True)
class EventBatch(Message):
    """Agent -> site: session starts/ends and offline decisions, uploaded until acknowledged."""

    TYPE = "events"
    sent_at: int
    events: tuple[GateEvent, ...]
    sig: str = ""

    @classmethod
    def _parse(cls, data: dict[str, Any]) -> dict[str, Any]:
        events = get_list(data, "events", max_items=MAX_EVENTS_PER_BATCH)
        return {
            "sent_at": get_time(data, "sent_at"),
            "events": tuple(GateEvent.from_dict(item) for item in events),
        }


@dataclass(frozen=True, kw_only=True)
class Ack(Message):
    """Agent -> site: the commands it has applied (or found already applied), and the allow-list
    version it now holds. The site re-sends each command and allow-list until it is acknowledged.
    """

    TYPE = "ack"
    sent_at: int
    command_ids: tuple[str, ...]
    allowlist_version: int | None
    sig: str = ""

    @classmethod
    def _parse(cls, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "sent_at": get_time(data, "sent_at"),
            "command_ids": get_str_list(
                data, "command_ids", max_items=MAX_ACK_IDS, pattern=NONCE_RE, max_len=64
            ),
            "allowlist_version": get_opt_int(data, "allowlist_version"),
        }


MESSAGE_TYPES: dict[str, type[Message]] = {
    cls.TYPE: cls
    for cls in (BadgeRequest, AccessReply, Command, AllowList, Status, Heartbeat, EventBatch, Ack)
}
