"""Other apps' changes reach the gates: cancelled bookings, revoked certifications, lost access,
machines leaving service all push a signed switch-off to the machine in use."""

from __future__ import annotations

import pytest

from access.gates import gate_emergency_stop
from access.models import AccessSource, GateMessage
from access.services import access_decide
from bookings.services import booking_cancel, booking_extend
from equipment.services import machine_set_state
from gate_agent import protocol as p
from membership import services as membership_services
from tests.access.conftest import longer_on_the_grid, opened
from tests.factories.access import GateDeviceFactory
from tests.factories.membership import BadgeFactory, UserFactory
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
    assert GateMessage.objects.filter(device=running, reason="booking_cancelled").exists()


def test_disabled_badge_stops_the_machine(scene, running, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        membership_services.badge_disable(
            badge=scene.member.badges.get(), reason="Stolen", actor=None
        )
    assert GateMessage.objects.filter(device=running, reason="access_lost").exists()


def test_machine_out_of_service_stops_it(scene, running, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        machine_set_state(
            machine=scene.machine, state="out_of_service", reason="Mirror cracked", actor=None
        )
    assert GateMessage.objects.filter(device=running, reason="out_of_service").exists()


def test_revoked_certification_stops_machines_needing_it(scene, running):
    """The revocation and the switch-off commit together."""
    from training.services import certification_revoke

    grant = MemberCertification.objects.get()
    certification_revoke(grant=grant, reason="Unsafe use", actor=UserFactory(is_superuser=True))
    assert GateMessage.objects.filter(device=running, reason="certification_revoked").exists()


def test_no_command_for_a_member_not_on_the_machine_only_a_fresh_list(scene, settings):
    """Nobody's job is stopped, and the gate's offline list drops the badge."""
    GateDeviceFactory(machine=scene.machine)
    membership_services.badge_disable(badge=scene.member.badges.get(), reason="Lost", actor=None)
    assert not GateMessage.objects.filter(kind="command").exists()
    assert GateMessage.objects.filter(kind="allowlist").count() == 1


def test_losing_access_stops_only_that_members_session_and_leaves_the_allow_list(
    scene, running, published, django_capture_on_commit_callbacks
):
    badge = scene.member.badges.get()
    with django_capture_on_commit_callbacks(execute=True):
        membership_services.badge_disable(badge=badge, reason="Stolen", actor=None)

    [command] = opened(published, running, p.Command, p.Topic.COMMAND)
    assert command.action == p.ACTION_SWITCH_OFF
    assert command.badge_hashes == (p.allowlist_badge_hash(badge.uid, running.secret),)
    [allowlist] = opened(published, running, p.AllowList, p.Topic.ALLOWLIST)
    listed = {entry.badge_hash for entry in allowlist.entries}
    assert p.allowlist_badge_hash(badge.uid, running.secret) not in listed


def test_emergency_stop_stops_whoever_is_working(
    scene, running, published, django_capture_on_commit_callbacks
):
    staff = UserFactory(role="Staff")
    with django_capture_on_commit_callbacks(execute=True):
        gate_emergency_stop(machine=scene.machine, actor=staff)
    [command] = opened(published, running, p.Command, p.Topic.COMMAND)
    assert (command.action, command.badge_hashes) == (p.ACTION_SWITCH_OFF, ())


def test_a_running_booking_made_longer_lets_its_members_session_run_on(
    scene, running, published, django_capture_on_commit_callbacks
):
    new_end = longer_on_the_grid(scene.booking)
    with django_capture_on_commit_callbacks(execute=True):
        booking_extend(booking=scene.booking, new_end=new_end, actor=scene.member.user)

    [command] = opened(published, running, p.Command, p.Topic.COMMAND)
    assert (command.action, command.grant_end) == (p.ACTION_EXTEND, int(new_end.timestamp()))
    badge = scene.member.badges.get()
    assert command.badge_hashes == (p.allowlist_badge_hash(badge.uid, running.secret),)


def test_a_booking_made_longer_before_its_member_arrives_tells_no_gate(
    scene, published, django_capture_on_commit_callbacks
):
    GateDeviceFactory(machine=scene.machine)
    new_end = longer_on_the_grid(scene.booking)
    with django_capture_on_commit_callbacks(execute=True):
        booking_extend(booking=scene.booking, new_end=new_end, actor=scene.member.user)
    assert not [topic for topic, _, _ in published if topic.endswith("/command")]


def test_disabling_one_of_two_badges_stops_and_delists_only_that_card(
    scene, running, published, django_capture_on_commit_callbacks
):
    """A member reports their spare card stolen: whoever started a session with it is stopped and
    it leaves the offline allow-list; the member's own card keeps working."""
    stolen = scene.member.badges.get()
    kept = BadgeFactory(member=scene.member)
    with django_capture_on_commit_callbacks(execute=True):
        membership_services.badge_disable(badge=stolen, reason="Stolen", actor=None)

    [command] = opened(published, running, p.Command, p.Topic.COMMAND)
    assert command.badge_hashes == (p.allowlist_badge_hash(stolen.uid, running.secret),)
    [allowlist] = opened(published, running, p.AllowList, p.Topic.ALLOWLIST)
    listed = {entry.badge_hash for entry in allowlist.entries}
    assert p.allowlist_badge_hash(stolen.uid, running.secret) not in listed
    assert p.allowlist_badge_hash(kept.uid, running.secret) in listed
