"""Django admin for the gates: look-ups only. The access log, usage sessions, commands and gate
history are an audit trail; gates change on their staff page. No secret or password hash shown."""

from django.contrib import admin

from access.models import (
    AccessEvent,
    EmergencyStop,
    GateAlarm,
    GateChange,
    GateDevice,
    GateMessage,
    UsageSession,
)
from equipment.admin import ReadOnlyAdmin


@admin.register(GateDevice)
class GateDeviceAdmin(ReadOnlyAdmin):
    """Gates change on their staff page, through the services that push to them and keep the
    history; credentials are never shown again after that page showed them once."""

    list_display = ["device_id", "machine", "enabled", "online", "relay_on", "last_seen"]
    list_filter = ["enabled", "online", "machine"]
    search_fields = ["device_id", "mqtt_username"]
    exclude = ["secret", "mqtt_password_hash"]
    list_select_related = ["machine"]


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "machine", "member", "badge_uid", "source", "allowed", "reason"]
    list_filter = ["allowed", "source", "machine"]
    search_fields = ["badge_uid", "member__user__email", "member__user__last_name"]
    date_hierarchy = "at"
    list_select_related = ["machine", "member__user"]


@admin.register(UsageSession)
class UsageSessionAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "ended_at",
        "machine",
        "member",
        "grant_reason",
        "end_reason",
        "busy_seconds",
    ]
    list_filter = ["machine", "grant_reason", "end_reason"]
    search_fields = ["session_id", "badge_uid", "member__user__email"]
    date_hierarchy = "started_at"
    list_select_related = ["machine", "member__user"]


@admin.register(GateMessage)
class GateMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "device", "kind", "action", "reason", "state", "attempts"]
    list_filter = ["kind", "state", "action", "reason"]
    exclude = ["signing_secret", "payload"]
    list_select_related = ["device__machine", "actor"]


@admin.register(EmergencyStop)
class EmergencyStopAdmin(ReadOnlyAdmin):
    list_display = ["pressed_at", "machine", "pressed_by", "cleared_at", "cleared_by"]
    list_select_related = ["machine", "pressed_by", "cleared_by"]


@admin.register(GateChange)
class GateChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "device", "kind", "reason", "actor"]
    list_filter = ["kind"]
    list_select_related = ["device__machine", "actor"]


@admin.register(GateAlarm)
class GateAlarmAdmin(ReadOnlyAdmin):
    list_display = ["at", "machine", "device", "reason", "took_out_of_service"]
    list_filter = ["reason", "machine"]
    list_select_related = ["machine", "device"]
