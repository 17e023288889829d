"""The one lock every booking and waitlist action on a machine takes first."""

from __future__ import annotations

from equipment.models import Machine


def machine_lock(machine: Machine) -> Machine:
    """The machine row, locked until the transaction ends: actions on one machine run one after
    another, so the rules' checks see each other's writes (quotas, overlaps, waitlist holds).

    NO KEY: rows that only point at the machine (a gate's access event, written while a badge
    scan holds its booking to check it in) are not held up; FOR UPDATE would make that scan
    wait for a cancellation that itself waits for the booking's lock, a deadlock."""
    return (
        Machine.objects.select_for_update(of=("self",), no_key=True)
        .select_related("required_certification", "location", "required_checkout")
        .get(pk=machine.pk)
    )
