"""Signals bookings sends after commit so the gate can react without a reverse import."""

from django.dispatch import Signal

# Sent with `booking` once a booking is cancelled (by its member, staff, or a machine block):
# the access app switches the machine off if that member is on it.
booking_cancelled = Signal()
# Sent with `booking` once a running booking was made longer: the access app lets the member's
# session on the machine run to the new end.
booking_extended = Signal()
# Sent with `machine` when its bookings changed, or who may use them (certification, maintainers;
# relayed from equipment by bookings.receivers): the access app refreshes its gates' allow-lists.
machine_bookings_changed = Signal()
