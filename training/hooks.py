"""Signals training sends after commit so later apps (the gate) can react without a reverse import."""

from django.dispatch import Signal

# Sent with `session` and `actor` once a class session moved: the bookings app holds the machines
# reserved for the class at the new time, cancelling bookings in the way.
class_session_moved = Signal()
