"""Notifications other apps may act on after a machine changes; they only notify.

`machine_out_of_service` is sent inside the atomic block of the change (a safety report or a
maintainer's switch), with `machine` and `reason`. A receiver may queue emails with
`delay_on_commit` (they go only if the change commits) and must not change state: what the
gates must do is `core.gates`' job, which has exactly one receiver and rolls back with the change.
"""

from django.dispatch import Signal

machine_out_of_service = Signal()
