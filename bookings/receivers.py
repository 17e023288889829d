"""Where training's hooks reach bookings: a moved class takes its machines along."""

from __future__ import annotations

from bookings import services
from training import hooks as training_hooks


def on_class_session_moved(sender, session, actor, **kwargs) -> None:
    """The machines held for the class are held at its new time; bookings there are cancelled."""
    machines = list(session.machines.all())
    if machines:
        services.class_session_reserve_machines(session=session, machines=machines, actor=actor)


def connect() -> None:
    training_hooks.class_session_moved.connect(
        on_class_session_moved, dispatch_uid="bookings-class-moved"
    )
