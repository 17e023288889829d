"""Signals equipment sends after commit so the gate can react without a reverse import."""

from django.dispatch import Signal

# Sent with `machine` when it leaves service (out of service or retired): its gates switch off.
machine_left_service = Signal()
