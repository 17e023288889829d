"""Gate devices at the machines, the access log, and the usage sessions they report."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from access.policy import Reason
from access.sentences import reason_sentence
from core.models import StateChange


class GateDevice(models.Model):
    """A Raspberry Pi gate switching one machine's power relay.

    The HMAC secret is kept because the site signs every reply with it; the MQTT password is
    kept only as Mosquitto's hash. Both are shown to staff once, in the device's config file.
    """

    machine = models.ForeignKey(
        "equipment.Machine", on_delete=models.PROTECT, related_name="gate_devices"
    )
    device_id = models.SlugField(max_length=64, unique=True)
    secret = models.CharField(max_length=128)
    mqtt_username = models.CharField(max_length=100, unique=True)
    mqtt_password_hash = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    # Why staff disabled the gate, shown on its page while it stays disabled.
    disabled_reason = models.CharField(max_length=500, blank=True)
    firmware = models.CharField(max_length=64, blank=True)
    online = models.BooleanField(default=False)
    last_seen = models.DateTimeField(null=True, blank=True)
    relay_on = models.BooleanField(default=False)
    relay_grant_end = models.DateTimeField(null=True, blank=True)
    allowlist_version = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["machine__name", "device_id"]
        permissions = [
            (
                "manage_gates",
                _("Can register gate devices, see the live gate page and stop machines"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(enabled=True, disabled_reason="")
                | models.Q(enabled=False) & ~models.Q(disabled_reason=""),
                name="gate_disabled_has_a_reason",
            )
        ]

    def __str__(self) -> str:
        return f"{self.device_id} ({self.machine})"


OFFLINE_REASON_SENTENCES = {
    "offline_allowlist": _(
        "Allowed by the gate's offline allow-list while the site was unreachable."
    ),
    "offline_not_listed": _("Refused offline: the badge had no window on the gate's allow-list."),
    "offline_allowlist_stale": _("Refused offline: the gate's allow-list was too old to trust."),
    "offline_no_allowlist": _("Refused offline: the gate had no allow-list."),
}


class AccessSource(models.TextChoices):
    GATE = "gate", _("Badge scan at the gate")
    WEB = "web", _("Staff web check")
    ALLOWLIST = "allowlist", _("Offline allow-list")
    OFFLINE = "offline", _("Decided offline by the gate")


class AccessEvent(models.Model):
    """One access decision: who scanned where, what was decided, why, and how long it took."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    source = models.CharField(max_length=20, choices=AccessSource.choices)
    badge_uid = models.CharField(max_length=40)
    device = models.ForeignKey(
        GateDevice, null=True, blank=True, on_delete=models.PROTECT, related_name="access_events"
    )
    machine = models.ForeignKey(
        "equipment.Machine", on_delete=models.PROTECT, related_name="access_events"
    )
    member = models.ForeignKey(
        "membership.Member",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="access_events",
    )
    booking = models.ForeignKey(
        "bookings.Booking", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    allowed = models.BooleanField()
    # A policy `Reason` code, or for gate-made offline decisions the gate's own code.
    reason = models.CharField(max_length=40)
    grant_end = models.DateTimeField(null=True, blank=True)
    decision_microseconds = models.PositiveIntegerField(default=0)
    # The gate's own id for a decision it made offline, so a re-upload is stored once.
    gate_event_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # The nonce of the gate request this answers: each request is answered once, by one bridge,
    # however often MQTT delivers it (a second, different reply would fail the gate closed).
    request_nonce = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["machine", "-at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "request_nonce"],
                condition=models.Q(request_nonce__isnull=False),
                name="one_answer_per_gate_request",
            )
        ]

    @property
    def reason_sentence(self) -> str:
        try:
            return reason_sentence(Reason(self.reason))
        except ValueError:  # a reason only an offline gate gives
            return str(
                OFFLINE_REASON_SENTENCES.get(
                    self.reason, self.reason.replace("_", " ").capitalize()
                )
            )


SESSION_END_SENTENCES = {
    "grant_expired": _("The booking ended."),
    "handover": _("Another member took over the machine (gates before the outbox)."),
    "message_rejected": _("The gate refused a message it could not trust."),
    "agent_error": _("The gate stopped on an error."),
    "agent_restart": _("The gate restarted."),
    "agent_stopped": _("The gate was shut down."),
    "emergency_stop": _("Emergency stop by staff."),
    "booking_cancelled": _("The booking was cancelled."),
    "access_lost": _("Access was lost (membership, waiver or certification)."),
    "badge_disabled": _("The badge was disabled."),
    "certification_revoked": _("The certification was revoked."),
    "out_of_service": _("The machine was taken out of service."),
    "gate_disabled": _("Staff disabled the gate."),
    "credentials_replaced": _("Staff replaced the gate's credentials."),
    "idle_timeout": _("The machine stood idle too long and was switched off."),
    "relay_failed": _("The relay did not switch on; the gate switched it off again."),
}


# Alarms a gate raises (gate_agent/switch.py), each with what staff read.
ALARM_SENTENCES = {
    "current_while_off": _(
        "Current is flowing while the gate has the relay off: a welded "
        "contactor or a bypass. The machine cannot be switched off by the gate."
    ),
    "relay_stuck_on": _("The relay reports on after the gate switched it off."),
    "relay_not_on": _("The relay did not switch on when the gate told it to."),
    "relay_unreachable": _("The gate could not reach its relay (smart plug offline?)."),
    "meter_failed": _("The gate gets no power reading from its meter."),
}
# These mean the gate cannot cut the power: the machine goes out of service at once.
ALARMS_OUT_OF_SERVICE = frozenset({"current_while_off", "relay_stuck_on"})


class GateAlarm(models.Model):
    """An alarm a gate raised (its event id keeps uploads that repeat from counting twice)."""

    device = models.ForeignKey(GateDevice, on_delete=models.PROTECT, related_name="alarms")
    machine = models.ForeignKey(
        "equipment.Machine", on_delete=models.PROTECT, related_name="gate_alarms"
    )
    at = models.DateTimeField()
    reason = models.CharField(max_length=40)
    session_id = models.CharField(max_length=64, blank=True)
    gate_event_id = models.CharField(max_length=64, unique=True)
    # Whether this alarm took the machine out of service (it was in service when it came).
    took_out_of_service = models.BooleanField(default=False)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["machine", "-at"])]

    def __str__(self) -> str:
        return f"{self.device.device_id}: {self.reason} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def sentence(self) -> str:
        return str(ALARM_SENTENCES.get(self.reason, self.reason.replace("_", " ").capitalize()))


class UsageSession(models.Model):
    """A stretch of time the relay was on, as the gate reported it."""

    session_id = models.CharField(max_length=64, unique=True)
    device = models.ForeignKey(GateDevice, on_delete=models.PROTECT, related_name="sessions")
    machine = models.ForeignKey(
        "equipment.Machine", on_delete=models.PROTECT, related_name="usage_sessions"
    )
    member = models.ForeignKey(
        "membership.Member",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="usage_sessions",
    )
    booking = models.ForeignKey(
        "bookings.Booking", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    badge_uid = models.CharField(max_length=40, blank=True)
    # Why the gate switched on, as its session_start reported it: allowed_booking,
    # allowed_instructor, allowed_maintainer, offline_allowlist. Metering charges by it; empty
    # for sessions recorded before it was kept.
    grant_reason = models.CharField(max_length=40, blank=True)
    started_at = models.DateTimeField()
    grant_end = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The gate's session end reason (docs/gate-protocol.md), e.g. grant_expired, idle_timeout.
    end_reason = models.CharField(max_length=40, blank=True)
    # Seconds within the session the machine drew at least its busy threshold, as the gate's
    # power meter saw it (reports, metered billing). Null: the gate has no meter, or the session
    # has not ended; never more than the session's duration.
    busy_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["machine", "ended_at"]),
            # The reports' hourly rollup: sessions running or ended since a moment, every machine.
            models.Index(fields=["ended_at"], name="usage_session_ended_at"),
        ]

    @property
    def duration(self) -> timedelta | None:
        """How long the relay was on; None while the session runs."""
        return None if self.ended_at is None else self.ended_at - self.started_at

    @property
    def busy_minutes(self) -> int | None:
        """Busy time in whole minutes, rounded down; None without a power meter."""
        return None if self.busy_seconds is None else self.busy_seconds // 60

    @property
    def end_sentence(self) -> str:
        if self.ended_at is None:
            return gettext("Running")
        return str(
            SESSION_END_SENTENCES.get(
                self.end_reason,
                self.end_reason.replace("_", " ").capitalize() or gettext("Ended"),
            )
        )


class DeliveryState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    DELIVERED = "delivered", _("Delivered to the broker")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged by the gate")
    SUPERSEDED = "superseded", _("Superseded by a newer allow-list")
    NOT_DELIVERED = "not_delivered", _("Not delivered")


PENDING_STATES = (DeliveryState.QUEUED, DeliveryState.DELIVERED)


class GateMessageKind(models.TextChoices):
    COMMAND = "command", _("Command")
    ALLOWLIST = "allowlist", _("Allow-list")


class GateMessage(models.Model):
    """The outbox: one site-to-gate message (a command or an allow-list), written in the same
    transaction as the change that causes it, and sent by the bridge until the gate acknowledges
    it, a newer allow-list supersedes it, or it gives up (by then every grant has ended).

    A command keeps the device secret of the moment it was queued (a gate losing its
    credentials is told under its old secret), to re-sign it under the same id when it is sent
    again; the copy is cleared once the message is settled. An allow-list without a payload is
    built when it is sent, so it says what the site knows then.
    """

    device = models.ForeignKey(GateDevice, on_delete=models.PROTECT, related_name="outbox")
    kind = models.CharField(max_length=20, choices=GateMessageKind.choices)
    action = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=40, blank=True)
    message = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        "membership.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    command_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    allowlist_version = models.PositiveBigIntegerField(null=True, blank=True)
    payload = models.TextField(blank=True)
    signing_secret = models.CharField(max_length=128, blank=True)
    state = models.CharField(
        max_length=20, choices=DeliveryState.choices, default=DeliveryState.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    give_up_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state__in=["queued", "delivered"]),
                name="gate_outbox_due",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="allowlist") | models.Q(command_id__isnull=False),
                name="gate_command_has_an_id",
            )
        ]

    def __str__(self) -> str:
        what = self.action or self.kind
        return f"{what} to {self.device.device_id}: {self.get_state_display()}"

    @property
    def pending(self) -> bool:
        return self.state in PENDING_STATES


class EmergencyStop(models.Model):
    """Staff pressed the emergency stop: the machine refuses every scan, online and offline,
    until staff clear it with a reason. At most one uncleared stop per machine."""

    machine = models.ForeignKey(
        "equipment.Machine", on_delete=models.PROTECT, related_name="emergency_stops"
    )
    pressed_by = models.ForeignKey(
        "membership.User", null=True, on_delete=models.PROTECT, related_name="+"
    )
    pressed_at = models.DateTimeField(default=timezone.now)
    cleared_by = models.ForeignKey(
        "membership.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cleared_at = models.DateTimeField(null=True, blank=True)
    clear_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-pressed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["machine"],
                condition=models.Q(cleared_at__isnull=True),
                name="one_open_emergency_stop_per_machine",
            ),
            models.CheckConstraint(
                condition=models.Q(cleared_at__isnull=True) | ~models.Q(clear_reason=""),
                name="emergency_stop_cleared_with_a_reason",
            ),
        ]


class GateChangeKind(models.TextChoices):
    DISABLED = "disabled", _("Disabled")
    ENABLED = "enabled", _("Enabled")
    CREDENTIALS_REPLACED = "credentials_replaced", _("Credentials replaced")
    MOVED = "moved", _("Moved to another machine")


class GateChange(StateChange):
    """What staff did to a gate, who and why: the gate's own history. Never edited."""

    device = models.ForeignKey(GateDevice, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(max_length=30, choices=GateChangeKind.choices)
    # Enabling a gate needs no reason; disabling, new credentials and a move do (access.devices).
    reason = models.CharField(max_length=500, blank=True)
    # For a move: the machine the gate left and the one it went to.
    from_machine = models.ForeignKey(
        "equipment.Machine", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_machine = models.ForeignKey(
        "equipment.Machine", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def describe(self) -> str:
        if self.kind == GateChangeKind.MOVED:
            return (
                f"Gate {self.device.device_id}: moved from {self.from_machine} to {self.to_machine}"
            )
        return f"Gate {self.device.device_id}: {self.get_kind_display().lower()}"
