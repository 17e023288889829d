"""Where other apps' hooks reach the gates: losing access switches running machines off."""

from __future__ import annotations

from access import services
from membership import hooks as membership_hooks
from membership import roles
from training import hooks as training_hooks


def on_member_access_lost(sender, member, **kwargs) -> None:
    services.gate_switch_off_member(
        member=member,
        reason="access_lost",
        message="Your membership or badge no longer allows machine use.",
    )


def on_certification_revoked(sender, member, certification, **kwargs) -> None:
    services.gate_switch_off_member(
        member=member,
        reason="certification_revoked",
        message=f"Your {certification} certification was revoked.",
        machines=list(certification.machines.all()),
    )


def connect() -> None:
    membership_hooks.member_access_lost.connect(on_member_access_lost, dispatch_uid="access-lost")
    training_hooks.certification_revoked.connect(
        on_certification_revoked, dispatch_uid="access-cert-revoked"
    )


def grant_gate_permissions(**kwargs) -> None:
    roles.grant_role_permissions(roles.STAFF, ["access.manage_gates"])
