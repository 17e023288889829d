"""Where equipment's hooks reach bookings' own signals, so the gates hear one signal per change.

The access app refreshes a machine's offline allow-lists on `machine_bookings_changed`. Those
lists hold each booking window only if its member may use the machine, and the maintainers' own
windows, so a new certification or new maintainers change them as much as a new booking does.
"""

from __future__ import annotations

from bookings import hooks
from equipment import hooks as equipment_hooks
from equipment.models import Machine


def on_machine_access_changed(sender, machine, **kwargs) -> None:
    hooks.machine_bookings_changed.send(Machine, machine=machine)


def connect() -> None:
    equipment_hooks.machine_access_changed.connect(
        on_machine_access_changed, dispatch_uid="bookings-machine-access"
    )
