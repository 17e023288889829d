"""Where lower apps' hooks reach bookings: a moved class takes its machines along, and a change of
who may use a machine reaches the gates through bookings' own signal.

The access app refreshes a machine's offline allow-lists on `machine_bookings_changed`. Those
lists hold each booking window only if its member may use the machine, and the maintainers' own
windows, so a new certification or new maintainers change them as much as a new booking does.
"""

from __future__ import annotations

from bookings import hooks, services
from equipment import hooks as equipment_hooks
from equipment.models import Machine
from training import hooks as training_hooks


def on_machine_access_changed(sender, machine, **kwargs) -> None:
    hooks.machine_bookings_changed.send(Machine, machine=machine)


def on_class_session_moved(sender, session, actor, **kwargs) -> None:
    """The machines held for the class are held at its new time; bookings there are cancelled."""
    machines = list(session.machines.all())
    if machines:
        services.class_session_reserve_machines(session=session, machines=machines, actor=actor)


def connect() -> None:
    equipment_hooks.machine_access_changed.connect(
        on_machine_access_changed, dispatch_uid="bookings-machine-access"
    )
    training_hooks.class_session_moved.connect(
        on_class_session_moved, dispatch_uid="bookings-class-moved"
    )
