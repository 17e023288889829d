"""Signals equipment sends after commit so the gate can react without a reverse import."""

from django.dispatch import Signal

# Sent with `machine` when it leaves service (out of service or retired): its gates switch off.
machine_left_service = Signal()
# Sent with `machine` when who may switch it on changed (its certification or maintainers): the
# gates' offline allow-lists must follow.
machine_access_changed = Signal()
