"""Other apps' changes reach the gates: cancelled bookings, revoked certifications, lost access,
machines leaving service all push a signed switch-off to the machine in use."""

from __future__ import annotations

import pytest

from access.models import AccessSource, GateCommand
from access.services import access_decide
from bookings.services import booking_cancel
from equipment.services import machine_set_state
from membership import services as membership_services
from tests.factories.access import GateDeviceFactory
from tests.factories.membership import UserFactory
from training.models import MemberCertification


@pytest.fixture
def running(scene, settings):
    """The member's scan switched the machine on; the broker is unreachable (the record stays)."""
    settings.GATE_BROKER_URL = "mqtt://127.0.0.1:1"
    device = GateDeviceFactory(machine=scene.machine)
    assert access_decide(
        badge_uid=scene.badge_uid, machine=scene.machine, source=AccessSource.GATE
    ).decision.allowed
    return device


def test_cancelled_booking_stops_its_machine(scene, running, django_capture_on_commit_callbacks):
    staff = UserFactory(role="Staff")
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=scene.booking, actor=staff, reason="Machine needed for a class")
    assert GateCommand.objects.filter(device=running, reason="booking_cancelled").exists()


def test_disabled_badge_stops_the_machine(scene, running, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        membership_services.badge_disable(
            badge=scene.member.badges.get(), reason="Stolen", actor=None
        )
    assert GateCommand.objects.filter(device=running, reason="access_lost").exists()


def test_machine_out_of_service_stops_it(scene, running, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        machine_set_state(
            machine=scene.machine, state="out_of_service", reason="Mirror cracked", actor=None
        )
    assert GateCommand.objects.filter(device=running, reason="out_of_service").exists()


def test_revoked_certification_stops_machines_needing_it(
    scene, running, django_capture_on_commit_callbacks
):
    from training import hooks

    grant = MemberCertification.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        hooks.certification_revoked.send(
            MemberCertification, member=scene.member, certification=grant.certification
        )
    assert GateCommand.objects.filter(device=running, reason="certification_revoked").exists()


def test_nothing_is_pushed_for_a_member_not_on_the_machine(scene, settings):
    settings.GATE_BROKER_URL = "mqtt://127.0.0.1:1"
    GateDeviceFactory(machine=scene.machine)
    membership_services.badge_disable(badge=scene.member.badges.get(), reason="Lost", actor=None)
    assert not GateCommand.objects.exists()
