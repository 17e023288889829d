"""Signals the membership app sends so later apps (the gate) can react without a reverse import.

Sent explicitly by services after their transaction commits, never from model signals.
"""

from django.dispatch import Signal

# Sent with `member` when a member loses the right to use machines (membership lapsed or
# cancelled, badge disabled). The access app switches that member's running machines off.
member_access_lost = Signal()
# Sent with `badge` once a badge is disabled (lost, stolen, replaced), even when its member keeps
# another: the access app stops a session started with it and drops it from offline allow-lists.
badge_disabled = Signal()
