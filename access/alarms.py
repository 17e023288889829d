"""Alarms from the gates: recorded once, shown on the live page, and when the gate cannot cut
the power (a welded contactor), the machine is taken out of service and its maintainers emailed.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from access.models import ALARM_SENTENCES, ALARMS_OUT_OF_SERVICE, GateAlarm, GateDevice
from access.tasks import gate_alarm_email
from equipment.models import Machine, MachineState
from equipment.services import machine_set_state


def gate_alarm_record(
    *, device: GateDevice, event_id: str, reason: str, at: datetime, session_id: str | None
) -> GateAlarm | None:
    """Store an alarm event from `device`; None if this event was stored already (an upload
    repeated). An alarm that means the gate cannot switch the machine off takes the machine out
    of service (which stops every session on it through the outbox) and emails its maintainers,
    all in one transaction."""
    with transaction.atomic():
        machine = Machine.objects.select_for_update().get(pk=device.machine_id)
        try:
            with transaction.atomic():
                alarm = GateAlarm.objects.create(
                    device=device,
                    machine=machine,
                    at=at,
                    reason=reason[:40],
                    session_id=session_id or "",
                    gate_event_id=event_id,
                )
        except IntegrityError:
            return None  # another bridge stored the same upload first
        if reason in ALARMS_OUT_OF_SERVICE and machine.state == MachineState.IN_SERVICE:
            machine_set_state(
                machine=machine,
                state=MachineState.OUT_OF_SERVICE,
                reason=_("Gate %(device)s alarm: %(alarm)s")
                % {"device": device.device_id, "alarm": ALARM_SENTENCES[reason]},
                actor=None,
            )
            alarm.took_out_of_service = True
            alarm.save(update_fields=["took_out_of_service"])
        if reason in ALARMS_OUT_OF_SERVICE:
            gate_alarm_email.delay_on_commit(alarm.pk)
    return alarm
