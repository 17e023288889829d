"""The gate's state machine: idle -> requesting -> on -> warning -> off, failing closed.

`Agent` is driven by four kinds of calls: `on_badge` (a scan), `on_message` (MQTT), `tick` (time
passing) and `on_connected`/`on_disconnected`. It never sleeps or starts threads, and reads time
only from the injected clock, so tests drive it deterministically. Every entry point switches the
relay off and logs the traceback if anything inside it raises.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from gate_agent import __version__
from gate_agent.badges import InvalidBadgeUID, normalize_badge_uid
from gate_agent.hardware.simulated import LogIndicator
from gate_agent.i18n import SOURCE_LANGUAGE, translations
from gate_agent.interfaces import Clock, Display, Indicator, PowerMeter, Relay, Transport
from gate_agent.protocol import (
    ACTION_SWITCH_OFF,
    CLOCK_SKEW,
    EVENT_ALARM,
    EVENT_OFFLINE_DECISION,
    EVENT_SESSION_END,
    EVENT_SESSION_EXTEND,
    EVENT_SESSION_START,
    MAX_MESSAGE_TTL,
    AccessReply,
    Ack,
    AllowList,
    BadgeRequest,
    Command,
    GateEvent,
    Heartbeat,
    ProtocolError,
    Topic,
    allowlist_badge_hash,
    new_nonce,
    parse_topic,
)

from .guard import Duplicate, Ignored, MessageGuard, Rejected, ReplayCache
from .journal import EventJournal
from .offline import AllowListStore
from .screen import Screen
from .switch import ALARM_CURRENT_WHILE_OFF, ALARM_METER_FAILED, Switch
from .uplink import Uplink
from .usage import BusyTracker, UsagePolicy

log = logging.getLogger(__name__)
# A session the allow-list granted, ended by a newer list that no longer lists its badge.
REASON_ALLOWLIST_WITHDRAWN = "allowlist_withdrawn"
F = TypeVar("F", bound=Callable[..., Any])
METER_RETRY_SECONDS = 10.0


class Phase(StrEnum):
    IDLE = "idle"
    REQUESTING = "requesting"
    ON = "on"
    WARNING = "warning"


@dataclass
class _Session:
    id: str
    badge_uid: str
    grant_end: int
    granted_by: str  # the request nonce of the latest grant; a late denial of it ends the session
    offline: bool = False  # the latest grant came from the allow-list, not from the site
    usage: BusyTracker | None = None
    warned: bool = False
    idle_warned: bool = False


@dataclass(frozen=True)
class _Pending:
    nonce: str
    badge_uid: str
    deadline: float


def _command_id(message: AccessReply | Command) -> str:
    if not isinstance(message, Command):
        raise TypeError("a duplicate command was expected")
    return message.command_id


def _failsafe(method: F) -> F:
    """Any exception in an entry point is logged with its traceback and switches the relay off."""

    @functools.wraps(method)
    def guarded(self: Agent, *args: Any) -> Any:
        try:
            return method(self, *args)
        except Exception:
            log.exception("%s failed; switching the relay off", method.__name__)
            self._emergency_off()
            return None

    return guarded  # type: ignore[return-value]


def _busy_seconds(session: _Session, now: float) -> int | None:
    return None if session.usage is None else session.usage.busy_seconds(now)


class Agent:
    def __init__(
        self,
        *,
        device_id: str,
        secret: str,
        relay: Relay,
        transport: Transport,
        state_dir: Path,
        clock: Clock = time.time,
        indicator: Indicator | None = None,
        request_timeout: float = 2.0,
        warning_seconds: float = 300.0,
        allowlist_max_age: float = 86400.0,
        heartbeat_interval: float = 30.0,
        firmware: str = __version__,
        meter: PowerMeter | None = None,
        usage: UsagePolicy | None = None,
        display: Display | None = None,
        zone: tzinfo | None = None,
        relay_retry_seconds: float = 5.0,
        language: str = SOURCE_LANGUAGE,
    ) -> None:
        # First, before anything that could fail: the machine starts unpowered. A relay that
        # cannot be reached yet is switched off (and reported) once the event log is open.
        try:
            relay.off()
        except Exception:
            log.exception("Could not switch the relay off at start-up; retrying")
        self._relay, self._clock = relay, clock
        # Readings mean nothing without the thresholds that judge them, and thresholds nothing
        # without readings: power is watched only with both (the simulator always has a meter).
        watched = meter is not None and usage is not None
        self._meter, self._usage = (meter, usage) if watched else (None, None)
        self._next_sample = clock()
        self._stray = False  # power is flowing through the relay that is off
        self._meter_failed = False
        self._screen = Screen(display, zone, translations(language))
        self.device_id, self._firmware = device_id, firmware
        self._indicator = indicator or LogIndicator()
        self._request_timeout, self._warning_seconds = request_timeout, warning_seconds
        self._heartbeat_interval = heartbeat_interval
        state_dir.mkdir(parents=True, exist_ok=True)
        journal = EventJournal(state_dir / "events.jsonl")
        self._uplink = Uplink(
            device_id=device_id, secret=secret, transport=transport, journal=journal, clock=clock
        )
        self._session: _Session | None = None
        self._pending: _Pending | None = None
        # Switches off, read back; an alarm (the event log is open now) if that is not confirmed.
        self._switch = Switch(
            relay, alarm=self._alarm, clock=clock, retry_seconds=relay_retry_seconds
        )
        replay = ReplayCache(state_dir / "seen.json", clock)
        self._guard = MessageGuard(device_id=device_id, secret=secret, replay=replay, clock=clock)
        self._secret = secret
        self._allowlists = AllowListStore(
            state_dir / "allowlist.json",
            device_id=device_id,
            secret=secret,
            max_age=allowlist_max_age,
        )
        self._late: dict[str, float] = {}  # timed-out request nonce -> until when a reply counts
        self._started = clock()
        self._next_heartbeat = self._started
        for start in journal.open_sessions():
            self._uplink.record(
                EVENT_SESSION_END, "agent_restart", start.session_id, start.badge_uid
            )

    # -- state, for the runner, the simulator and tests -------------------------------------

    @property
    def phase(self) -> Phase:
        if self._session is not None:
            return Phase.WARNING if self._session.warned else Phase.ON
        return Phase.REQUESTING if self._pending is not None else Phase.IDLE

    @property
    def grant_end(self) -> int | None:
        return None if self._session is None else self._session.grant_end

    @property
    def allowlist(self) -> AllowList | None:
        return self._allowlists.current

    def unsent_events(self) -> list[GateEvent]:
        return self._uplink.unsent()

    # -- entry points ---------------------------------------------------------------------------

    @_failsafe
    def on_badge(self, raw_uid: str) -> None:
        """A badge was scanned: ask the site (or, offline, the allow-list) whether to switch on.
        A scan while the machine runs asks to extend the grant."""
        try:
            uid = normalize_badge_uid(raw_uid)
        except InvalidBadgeUID as exc:
            log.warning("Unreadable scan: %s", exc)
            self._indicator.denied()
            return
        if self._pending is not None:
            log.info("Scan of %s ignored: still waiting for the site", uid)
            return
        now = self._clock()
        self._pending = _Pending(new_nonce(), uid, now + self._request_timeout)
        request = BadgeRequest(
            device_id=self.device_id,
            nonce=self._pending.nonce,
            badge_uid=uid,
            sent_at=int(now),
            firmware=self._firmware,
        )
        if not self._uplink.publish(Topic.REQUEST, request):
            log.info("Not connected: deciding %s from the allow-list", uid)
            self._decide_offline()

    @_failsafe
    def on_message(self, topic: str, payload: bytes | bytearray) -> None:
        """A message from the site. One that fails its checks switches the relay off."""
        try:
            device_id, kind = parse_topic(topic)
        except ProtocolError as exc:
            log.warning("Ignored a message on a foreign topic: %s", exc)
            return
        handler = {
            Topic.REPLY: self._handle_reply,
            Topic.COMMAND: self._handle_command,
            Topic.ALLOWLIST: self._handle_allowlist,
        }.get(kind)
        if device_id != self.device_id or handler is None:
            log.warning("Ignored a message on %s: not for this agent", topic[:120])
            return
        try:
            handler(bytes(payload))
        except Ignored as exc:
            # Allow-lists are re-sent routinely: their no-ops would flood the operator's screen.
            level = logging.DEBUG if kind == Topic.ALLOWLIST else logging.INFO
            log.log(level, "Ignored %s message: %s", kind, exc)
        except Rejected as exc:
            log.warning("Rejected %s message: %s; switching the relay off", kind, exc)
            self._pending = None
            self._end_session("message_rejected")

    @_failsafe
    def tick(self) -> None:
        """Let time pass: request timeouts, warnings, grant expiry, heartbeats, event upload."""
        now = self._clock()
        self._uplink.drain_acks()
        if self._pending is not None and now >= self._pending.deadline:
            log.info("No reply from the site in time: deciding offline")
            self._decide_offline()
        self._late = {nonce: until for nonce, until in self._late.items() if until > now}
        self._update_session(now)
        if self._session is None and self._relay.is_on:
            log.error("Relay was on without a session; switching it off")
            self._switch.off()
        self._switch.retry()
        if self._meter is not None and now >= self._next_sample:
            self._sample(now, self._meter)
        if self._uplink.connected:
            self._uplink.flush()
            if now >= self._next_heartbeat:
                self._send_heartbeat(now)

    @_failsafe
    def on_connected(self) -> None:
        """(Re)connected to the broker: upload what the site has not acknowledged yet."""
        self._uplink.reset()
        self._send_heartbeat(self._clock())
        self._uplink.flush()

    @_failsafe
    def on_disconnected(self) -> None:
        """A running session carries on to its grant end; uploads resume on reconnect."""
        self._uplink.reset()

    @_failsafe
    def shutdown(self) -> None:
        self._pending = None
        self._end_session("agent_stopped")

    # -- site messages --------------------------------------------------------------------------

    def _handle_reply(self, payload: bytes) -> None:
        reply = self._guard.open_once(AccessReply, payload)
        pending = self._pending
        if pending is not None and reply.nonce == pending.nonce:
            self._guard.consume(reply, payload)
            self._pending = None
            # The site's sentence for a grant says "until your booking ends"; the gate knows when.
            # (A reply carries grant_end exactly when it allows: protocol.messages checks it.)
            detail = reply.message
            if reply.grant_end is not None:
                detail = f"until {self._screen.at(reply.grant_end)}"
            log.info(
                "Site: %s for %s (%s) %s",
                "allowed" if reply.allowed else "denied",
                pending.badge_uid,
                reply.member_name or "unknown",
                detail,
            )
            self._apply(
                pending,
                reply.allowed,
                reply.reason,
                reply.grant_end,
                name=reply.member_name,
                message=reply.message,
            )
        elif reply.nonce in self._late:
            self._guard.consume(reply, payload)
            del self._late[reply.nonce]
            session = self._session
            if not reply.allowed and session is not None and session.granted_by == reply.nonce:
                log.warning("Site denied, late, a session granted offline: switching off")
                self._end_session(reply.reason)
            else:
                raise Ignored("reply arrived after the request timed out")
        else:
            raise Rejected("reply to no pending request")

    def _handle_command(self, payload: bytes) -> None:
        """Apply a command once and acknowledge it, also when it changes nothing (no session,
        another member's session): the site re-sends it until it hears the acknowledgement."""
        try:
            command = self._guard.open_once(Command, payload)
        except Duplicate as duplicate:
            self._acknowledge(command_ids=(_command_id(duplicate.message),))
            raise
        self._guard.consume(command, payload)
        try:
            self._apply_command(command)
        finally:
            self._acknowledge(command_ids=(command.command_id,))

    def _apply_command(self, command: Command) -> None:
        if command.badge_hashes and not self._started_by_one_of(command.badge_hashes):
            raise Ignored(f"{command.action} for a badge that is not running this machine")
        if command.action == ACTION_SWITCH_OFF:
            log.warning("Site command: switch off (%s) %s", command.reason, command.message)
            self._pending = None
            self._end_session(command.reason)
            return
        session = self._session
        if session is None or command.grant_end is None:
            raise Ignored("extend with no session running")
        if command.grant_end <= session.grant_end:
            raise Ignored("extend to an earlier end")
        self._extend(session, command.grant_end, command.reason)

    def _started_by_one_of(self, badge_hashes: tuple[str, ...]) -> bool:
        session = self._session
        return session is not None and (
            allowlist_badge_hash(session.badge_uid, self._secret) in badge_hashes
        )

    def _handle_allowlist(self, payload: bytes) -> None:
        """Adopt a newer list; acknowledge the version now held, also for a list already held."""
        allowlist = self._guard.open(AllowList, payload)
        try:
            self._allowlists.offer(allowlist, payload, self._clock())
        except Ignored:
            self._acknowledge()
            raise
        self._withdraw_offline_grant()
        self._acknowledge()

    def _withdraw_offline_grant(self) -> None:
        """A session the allow-list granted ends when a newer list no longer lists its badge
        now: the site has withdrawn the grant (a lapse, a revocation), and its switch-off may
        come later than the list, through another bridge."""
        session = self._session
        if session is None or not session.offline:
            return
        if not self._allowlists.decide(session.badge_uid, self._clock()).allowed:
            log.warning("The new allow-list no longer lists %s: switching off", session.badge_uid)
            self._end_session(REASON_ALLOWLIST_WITHDRAWN)

    def _acknowledge(self, *, command_ids: tuple[str, ...] = ()) -> None:
        """Tell the site what was applied. Not journaled: a lost ack makes the site send again,
        and the repeat is a `Duplicate` that is acknowledged again."""
        current = self._allowlists.current
        ack = Ack(
            device_id=self.device_id,
            sent_at=int(self._clock()),
            command_ids=command_ids,
            allowlist_version=None if current is None else current.version,
        )
        self._uplink.publish(Topic.ACK, ack)

    # -- decisions and sessions -----------------------------------------------------------------

    def _decide_offline(self) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        now = self._clock()
        decision = self._allowlists.decide(pending.badge_uid, now)
        # A reply that arrives later still counts if it denies what was granted offline.
        self._late[pending.nonce] = now + MAX_MESSAGE_TTL + CLOCK_SKEW
        log.info("Offline decision for %s: %s", pending.badge_uid, decision.reason)
        self._uplink.record(
            EVENT_OFFLINE_DECISION,
            decision.reason,
            None,
            pending.badge_uid,
            allowed=decision.allowed,
            grant_end=decision.grant_end,
        )
        self._apply(pending, decision.allowed, decision.reason, decision.grant_end, offline=True)

    def _apply(
        self,
        pending: _Pending,
        allowed: bool,
        reason: str,
        grant_end: int | None,
        *,
        name: str | None = None,
        message: str = "",
        offline: bool = False,
    ) -> None:
        now = self._clock()
        session = self._session
        if not allowed or grant_end is None or grant_end <= now:
            # A refused extension leaves the running grant as it was.
            self._indicator.denied()
            self._screen.denied(reason, message)
            return
        if session is not None and session.badge_uid == pending.badge_uid:
            session.granted_by, session.offline = pending.nonce, offline
            if grant_end > session.grant_end:
                self._extend(session, grant_end, reason)
            return
        if session is not None:
            # A running session is never taken over by another badge, whoever it belongs to:
            # the next member scans again once this grant has ended and the relay is off.
            log.warning(
                "Scan of %s refused: the session of %s runs until %s",
                pending.badge_uid,
                session.badge_uid,
                self._screen.at(session.grant_end),
            )
            self._indicator.denied()
            self._screen.denied("machine_in_use", "the machine is in use")
            return
        new = _Session(new_nonce(), pending.badge_uid, grant_end, pending.nonce, offline=offline)
        if self._usage is not None:
            new.usage = BusyTracker(self._usage, now)
        # The audit entry is durable before the machine gets power.
        self._uplink.record(EVENT_SESSION_START, reason, new.id, new.badge_uid, grant_end=grant_end)
        self._session = new
        if not self._switch.on():
            # Fail closed: a relay that did not confirm on is off (or being retried off).
            self._end_session("relay_failed")
            return
        self._screen.on_until(name, grant_end, offline=offline)
        self._update_session(now)

    def _extend(self, session: _Session, grant_end: int, reason: str) -> None:
        session.grant_end = grant_end
        self._uplink.record(
            EVENT_SESSION_EXTEND, reason, session.id, session.badge_uid, grant_end=grant_end
        )
        self._screen.extended(grant_end)
        self._update_session(self._clock())

    def _update_session(self, now: float) -> None:
        session = self._session
        if session is None:
            return
        if now >= session.grant_end:
            self._end_session("grant_expired")
            return
        warn = now >= session.grant_end - self._warning_seconds
        if warn != session.warned:
            session.warned = warn
            if warn:
                self._indicator.warn()
                self._screen.ends_soon(session.grant_end, now)
            elif not session.idle_warned:
                self._indicator.clear()

    def _end_session(self, reason: str) -> None:
        self._switch.off()  # first, whatever happens after
        session, self._session = self._session, None
        if session is not None:
            self._indicator.clear()
            self._screen.off(reason)
            self._uplink.record(
                EVENT_SESSION_END,
                reason,
                session.id,
                session.badge_uid,
                busy_seconds=_busy_seconds(session, self._clock()),
            )

    def _emergency_off(self) -> None:
        try:
            self._relay.off()
        except Exception:
            log.critical("Could not switch the relay off", exc_info=True)
        session, self._session, self._pending = self._session, None, None
        try:
            self._switch.off()  # read back, and retried until confirmed
            self._indicator.clear()
            if session is not None:
                self._uplink.record(
                    EVENT_SESSION_END,
                    "agent_error",
                    session.id,
                    session.badge_uid,
                    busy_seconds=_busy_seconds(session, self._clock()),
                )
        except Exception:
            log.exception("Could not record the end of the session after an error")

    # -- power: busy time, idle auto-off, current with the relay off ---------------------------

    def _sample(self, now: float, meter: PowerMeter) -> None:
        assert self._usage is not None  # set together with the meter
        self._next_sample = now + self._usage.sample_seconds
        session = self._session
        try:
            watts = meter.watts()
        except Exception as exc:
            if session is not None and session.usage is not None:
                session.usage.no_reading(now)
            # A meter that times out stalls the loop: ask it less often until it answers.
            self._next_sample = now + max(METER_RETRY_SECONDS, self._usage.sample_seconds)
            if not self._meter_failed:
                self._meter_failed = True
                self._alarm(ALARM_METER_FAILED, f"No power reading: {exc}")
            return
        self._meter_failed = False
        if session is not None and session.usage is not None:
            session.usage.reading(now, watts)
            self._check_idle(session, session.usage, now)
        elif not self._relay.is_on:
            self._check_stray(now, watts)

    def _check_idle(self, session: _Session, usage: BusyTracker, now: float) -> None:
        policy = self._usage
        if policy is None or policy.idle_warn_seconds is None:
            return
        idle = usage.idle_seconds(now)
        if idle >= policy.idle_warn_seconds + policy.idle_grace_seconds:
            log.warning("Idle for %d s: switching off", idle)
            self._end_session("idle_timeout")
        elif idle >= policy.idle_warn_seconds:
            if not session.idle_warned:
                session.idle_warned = True
                self._indicator.warn()
                self._screen.idle(now - idle + policy.idle_warn_seconds + policy.idle_grace_seconds)
        elif session.idle_warned:
            session.idle_warned = False
            if not session.warned:
                self._indicator.clear()
            self._screen.in_use(session.grant_end)

    def _check_stray(self, now: float, watts: float) -> None:
        """Current through a relay that is off: a welded contactor or a bypass. Raised at once
        (once per episode), after the load has had `settle_seconds` to run down."""
        assert self._usage is not None
        if now < self._switch.off_since + self._usage.settle_seconds:
            return
        stray = self._usage.stray(watts)
        if stray and not self._stray:
            self._alarm(
                ALARM_CURRENT_WHILE_OFF,
                f"{watts:.0f} W flowing with the relay off: welded contactor or bypass?",
            )
            self._switch.off()  # in case it was only a lost command
        self._stray = stray

    def _alarm(self, reason: str, sentence: str) -> None:
        log.error("ALARM %s: %s", reason, sentence)
        self._screen.alarm(reason, sentence)
        session = self._session
        self._uplink.record(
            EVENT_ALARM,
            reason,
            None if session is None else session.id,
            None if session is None else session.badge_uid,
        )

    # -- heartbeats -----------------------------------------------------------------------------

    def _send_heartbeat(self, now: float) -> None:
        self._next_heartbeat = now + self._heartbeat_interval
        allowlist = self._allowlists.current
        heartbeat = Heartbeat(
            device_id=self.device_id,
            sent_at=int(now),
            firmware=self._firmware,
            uptime=max(0, int(now - self._started)),
            relay_on=self._relay.is_on,
            phase=self.phase.value,
            grant_end=self.grant_end,
            allowlist_version=None if allowlist is None else allowlist.version,
            unsent_events=len(self._uplink.unsent()),
        )
        self._uplink.publish(Topic.HEARTBEAT, heartbeat)
