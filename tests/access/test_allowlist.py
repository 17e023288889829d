"""The offline allow-list: exactly the windows the access decision allows, decided at each
window's start; and versions that out-version every earlier list, even after the site's database
is restored from a backup."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from access.allowlist import allowlist_build, allowlist_empty
from access.gates import gate_emergency_stop
from access.models import GateDevice
from bookings.models import BookingState
from equipment.models import MachineState
from gate_agent import protocol as p
from membership.models import MembershipStatus, WaiverSignature
from tests.factories.access import GateDeviceFactory, UsageSessionFactory
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory, certification, certify
from tests.factories.membership import BadgeFactory, ready_member
from training.models import MemberCertification

NOW = timezone.now().replace(microsecond=0) + timedelta(days=1)
H, M = timedelta(hours=1), timedelta(minutes=1)


def test_every_build_out_versions_the_last(scene):
    device = GateDeviceFactory(machine=scene.machine)
    versions = [allowlist_build(device).version for _ in range(3)]
    assert versions == sorted(set(versions))


def test_a_database_restored_from_a_backup_still_out_versions_what_gates_hold(scene):
    device = GateDeviceFactory(machine=scene.machine)
    held_by_the_gate = allowlist_build(device).version
    GateDevice.objects.filter(pk=device.pk).update(allowlist_version=0)  # last night's backup
    device.refresh_from_db()
    assert allowlist_build(device).version > held_by_the_gate


@pytest.fixture
def laser(db, settings):
    settings.GATE_ALLOWLIST_HOURS = 12
    settings.BOOKING_CHECK_IN_OPENS_MINUTES = 10
    settings.GATE_STAFF_GRANT_MINUTES = 120
    return MachineFactory(name="Laser", required_certification=certification("Laser cutter"))


def member_for(machine, **membership):
    member = ready_member(current_period_end=NOW + timedelta(days=20), **membership)
    certify(member, machine.required_certification, granted_at=NOW - timedelta(days=30))
    return member


def book(member, machine, start, end, **kwargs):
    return BookingFactory(member=member, machine=machine, start=start, end=end, **kwargs)


def listed(device, **kwargs) -> dict[str, list[tuple[int, int]]]:
    """The list's windows by badge UID (of the badges in the database), as offsets from NOW."""
    allowlist = allowlist_build(device, now=NOW, **kwargs)
    assert p.verify(allowlist, device.secret)
    from membership.models import Badge

    uid_of = {p.allowlist_badge_hash(b.uid, device.secret): b.uid for b in Badge.objects.all()}
    windows: dict[str, list[tuple[int, int]]] = {}
    now = int(NOW.timestamp())
    for entry in allowlist.entries:
        windows.setdefault(uid_of[entry.badge_hash], []).append(
            (entry.window_start - now, entry.window_end - now)
        )
    return windows


def test_the_list_holds_exactly_the_windows_the_decision_allows(laser):
    """Booked members who may use the machine then, from check-in (not before now) to the end;
    the machine's maintainers for the list's whole life. Nobody else: not lapsed members, missing
    waivers, revoked certifications, disabled badges, cancelled bookings, other machines' bookings,
    or bookings outside the list's hours."""
    device = GateDeviceFactory(machine=laser)
    ready, later = member_for(laser), member_for(laser)
    book(ready, laser, NOW - 5 * M, NOW + H)
    book(later, laser, NOW + 2 * H, NOW + 3 * H)
    BadgeFactory(member=later, enabled=False, disabled_reason="Lost")
    lapsed = member_for(laser, status=MembershipStatus.CANCELED)
    unsigned = member_for(laser)
    WaiverSignature.objects.filter(member=unsigned).delete()
    revoked = member_for(laser)
    MemberCertification.objects.filter(member=revoked).update(
        revoked_at=NOW - H, revoke_reason="Unsafe use"
    )
    cancelled, elsewhere, past, beyond = (member_for(laser) for _ in range(4))
    for hours, member in enumerate((lapsed, unsigned, revoked), start=4):
        book(member, laser, NOW + hours * H, NOW + (hours + 1) * H)
    book(cancelled, laser, NOW + 4 * H, NOW + 5 * H, state=BookingState.CANCELLED)
    book(elsewhere, MachineFactory(), NOW + 4 * H, NOW + 5 * H)
    book(past, laser, NOW - 2 * H, NOW - H)
    book(beyond, laser, NOW + 12 * H + 10 * M, NOW + 13 * H)
    maintainer = member_for(laser)
    laser.maintainers.add(maintainer.user)
    MachineFactory().maintainers.add(member_for(laser).user)
    seconds = int(H.total_seconds())
    assert listed(device) == {
        ready.badges.get().uid: [(0, seconds)],
        later.badges.get(enabled=True).uid: [(2 * seconds - 600, 3 * seconds)],
        maintainer.badges.get().uid: [(0, 12 * seconds)],
    }


def test_each_window_is_decided_at_its_start(laser):
    """A membership or certification that runs out before the booking's check-in opens leaves
    that booking off the list, though it is valid now."""
    device = GateDeviceFactory(machine=laser)
    unpaid = member_for(laser)
    unpaid.membership.current_period_end = NOW - timedelta(days=3) + 2 * H
    unpaid.membership.save()
    expiring = member_for(laser)
    MemberCertification.objects.filter(member=expiring).update(expires_at=NOW + 2 * H)
    book(unpaid, laser, NOW + 3 * H, NOW + 4 * H)
    book(expiring, laser, NOW + 4 * H, NOW + 5 * H)
    assert listed(device) == {}


def test_back_to_back_bookings_each_keep_their_whole_window(laser):
    """At the second booking's check-in the first still covers the instant: the second window
    still runs to its own end, not the first's."""
    member = member_for(laser)
    book(member, laser, NOW + H, NOW + 2 * H)
    book(member, laser, NOW + 2 * H, NOW + 3 * H)
    seconds = int(H.total_seconds())
    assert listed(GateDeviceFactory(machine=laser)) == {
        member.badges.get().uid: [(seconds - 600, 2 * seconds), (2 * seconds - 600, 3 * seconds)]
    }


def test_an_instructors_booking_window_ends_with_the_staff_grant(laser):
    """An instructor who booked four hours is allowed as an instructor: for the staff grant."""
    instructor = member_for(laser)
    laser.required_certification.instructors.add(instructor.user)
    book(instructor, laser, NOW + H, NOW + 5 * H)
    start = int(H.total_seconds()) - 600
    assert listed(GateDeviceFactory(machine=laser)) == {
        instructor.badges.get().uid: [(start, start + 2 * 3600)]
    }


def test_another_members_running_session_does_not_drop_later_windows(laser):
    """A scan now is refused while someone else's session runs; a window ahead is not."""
    device = GateDeviceFactory(machine=laser)
    member = member_for(laser)
    book(member, laser, NOW + H, NOW + 2 * H)
    UsageSessionFactory(
        device=device, member=member_for(laser), ended_at=None, grant_end=NOW + 2 * H
    )
    assert list(listed(device)) == [member.badges.get().uid]


@pytest.mark.parametrize(
    ("change", "maintainer_listed"),
    [("out_of_service", True), ("retired", False), ("emergency_stop", False), ("disabled", False)],
)
def test_a_machine_out_of_use_lists_only_its_maintainers_or_nobody(
    laser, staff_user, change, maintainer_listed
):
    """Out of service, only its maintainers (who repair it); retired, emergency-stopped or on a
    disabled gate, nobody."""
    device = GateDeviceFactory(machine=laser)
    book(member_for(laser), laser, NOW + H, NOW + 2 * H)
    maintainer = member_for(laser)
    laser.maintainers.add(maintainer.user)
    if change == "emergency_stop":
        gate_emergency_stop(machine=laser, actor=staff_user)
    elif change == "disabled":
        GateDevice.objects.filter(pk=device.pk).update(enabled=False, disabled_reason="Stolen")
        device.refresh_from_db()
    else:
        laser.state = MachineState.OUT_OF_SERVICE if change == "out_of_service" else change
        laser.save()
    assert list(listed(device)) == ([maintainer.badges.get().uid] if maintainer_listed else [])


def test_a_list_is_issued_now_and_valid_for_the_configured_hours(laser):
    device = GateDeviceFactory(machine=laser)
    for allowlist in (allowlist_build(device, now=NOW), allowlist_empty(device, now=NOW)):
        assert (allowlist.issued_at, allowlist.valid_until) == (
            int(NOW.timestamp()),
            int((NOW + 12 * H).timestamp()),
        )
        assert p.verify(allowlist, device.secret) and allowlist.device_id == device.device_id
    built = allowlist_build(device, now=NOW)
    empty = allowlist_empty(device, now=NOW)
    assert empty.entries == () and empty.version > built.version


def test_an_instructor_is_listed_only_for_their_active_bookings_on_this_machine(laser):
    """Instructors need no booking online, but the list carries only booking windows (and
    maintainers): not their bookings on other machines, cancelled ones or ones already over."""
    instructor = member_for(laser)
    laser.required_certification.instructors.add(instructor.user)
    book(instructor, MachineFactory(), NOW + H, NOW + 2 * H)
    book(instructor, laser, NOW + H, NOW + 2 * H, state=BookingState.CANCELLED)
    book(instructor, laser, NOW - 2 * H, NOW - H)
    assert listed(GateDeviceFactory(machine=laser)) == {}


def test_a_maintainers_disabled_badge_is_not_listed_even_once_its_uid_is_reissued(laser):
    """A maintainer's lost card, now an instructor's: that UID gets no day-long window."""
    maintainer = member_for(laser)
    laser.maintainers.add(maintainer.user)
    lost = maintainer.badges.get()
    lost.enabled, lost.disabled_reason = False, "Lost"
    lost.save()
    BadgeFactory(member=maintainer)
    instructor = member_for(laser)
    laser.required_certification.instructors.add(instructor.user)
    instructor.badges.all().delete()
    BadgeFactory(member=instructor, uid=lost.uid)
    assert listed(GateDeviceFactory(machine=laser)) == {
        maintainer.badges.get(enabled=True).uid: [(0, 12 * 3600)]
    }
