"""Signals training sends after commit so later apps (the gate) can react without a reverse import."""

from django.dispatch import Signal

# Sent with `member` and `certification` when a grant is revoked: the access app switches off
# that member's running machines which require the certification.
certification_revoked = Signal()
