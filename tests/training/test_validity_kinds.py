"""A certification's validity: months from the grant, a fixed date, or lapsing after N days
without use of a machine that needs it (measured from the gates' usage sessions), whichever
ends first; the access decision and training's expiry read the same `expires_at`."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta

from access.bridge import GateBridge
from access.models import AccessSource
from access.services import access_decide
from gate_agent import protocol as p
from membership import roles
from tests.access.conftest import build_scene
from tests.factories.access import GateDeviceFactory
from tests.factories.membership import MemberFactory, UserFactory
from tests.factories.training import CertificationFactory, MemberCertificationFactory
from training import selectors, services
from training.errors import SignOffRejected
from training.models import Certification, MemberCertification

LA = ZoneInfo("America/Los_Angeles")
GRANTED = datetime(2026, 3, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("months", "until", "unused", "expires", "latest"),
    [
        (None, None, None, None, None),
        (12, None, None, datetime(2027, 3, 1, 10, tzinfo=UTC), "same"),
        # Valid until 30 June (local): ends at the local midnight after it, 07:00Z in summer.
        (None, date(2026, 6, 30), None, datetime(2026, 7, 1, 7, tzinfo=UTC), "same"),
        (12, date(2026, 6, 30), None, datetime(2026, 7, 1, 7, tzinfo=UTC), "same"),
        (2, date(2026, 6, 30), None, datetime(2026, 5, 1, 10, tzinfo=UTC), "same"),
        (None, None, 30, datetime(2026, 3, 31, 10, tzinfo=UTC), None),
        (12, None, 30, datetime(2026, 3, 31, 10, tzinfo=UTC), datetime(2027, 3, 1, 10, tzinfo=UTC)),
        (None, date(2026, 3, 10), 30, datetime(2026, 3, 11, 7, tzinfo=UTC), "same"),  # PDT by then
    ],
)
def test_a_grant_ends_at_the_earliest_of_its_rules(months, until, unused, expires, latest):
    cert = Certification(validity_months=months, valid_until=until, lapses_after_days_unused=unused)
    assert services.grant_expiry(cert, granted_at=GRANTED) == (
        expires,
        expires if latest == "same" else latest,
    )


def test_signing_off_records_both_ends_and_refuses_a_certification_past_its_date(db):
    cert = CertificationFactory(name="Lathe", validity_months=12, lapses_after_days_unused=60)
    staff = UserFactory(role=roles.STAFF)
    member = MemberFactory()
    grant = services.certification_grant(
        member=member, certification=cert, actor=staff, note="Watched a cut"
    )
    assert grant.expires_at == grant.granted_at + timedelta(days=60)
    assert grant.expires_at_latest == grant.granted_at + relativedelta(months=12)
    old = CertificationFactory(
        name="Old standard", validity_months=None, valid_until=date(2020, 1, 1)
    )
    with pytest.raises(SignOffRejected, match="ended on 01 Jan 2020"):
        services.certification_grant(
            member=member, certification=old, actor=staff, note="Watched a cut"
        )


@pytest.fixture
def lapsing(db):
    """Shop basics (lapses after 90 days unused) is needed for the laser (30 days unused, at
    most a year); a member holds both, granted on 1 March."""
    basics = CertificationFactory(
        name="Shop basics", validity_months=None, lapses_after_days_unused=90
    )
    laser = CertificationFactory(
        name="Laser", validity_months=12, lapses_after_days_unused=30, prerequisites=[basics]
    )
    member = MemberFactory()
    grants = {}
    for cert in (basics, laser):
        expires, latest = services.grant_expiry(cert, granted_at=GRANTED)
        grants[cert.name] = MemberCertificationFactory(
            member=member, certification=cert, granted_at=GRANTED, expires_at=expires,
            expires_at_latest=latest,
        )  # fmt: skip
    return member, laser, basics, grants


def ends(grants) -> dict[str, datetime]:
    return {
        name: MemberCertification.objects.get(pk=grant.pk).expires_at
        for name, grant in grants.items()
    }


def test_use_moves_the_grant_and_its_prerequisites_on(lapsing):
    member, laser, _, grants = lapsing
    used = GRANTED + timedelta(days=20)
    assert services.certification_used(member=member, certification_id=laser.pk, at=used) == 2
    assert ends(grants) == {
        "Shop basics": used + timedelta(days=90),
        "Laser": used + timedelta(days=30),
    }
    # An earlier use (an upload late from an offline gate) moves nothing back.
    assert (
        services.certification_used(
            member=member, certification_id=laser.pk, at=used - timedelta(days=5)
        )
        == 0
    )
    assert ends(grants)["Laser"] == used + timedelta(days=30)


def test_use_never_passes_the_latest_end_nor_revives_a_lapsed_or_revoked_grant(lapsing):
    member, laser, _basics, grants = lapsing
    near_the_end = datetime(2027, 2, 20, tzinfo=UTC)
    MemberCertification.objects.filter(pk=grants["Laser"].pk).update(
        expires_at=near_the_end + timedelta(days=1)
    )
    MemberCertification.objects.filter(pk=grants["Shop basics"].pk).update(
        expires_at=near_the_end + timedelta(days=1), revoked_at=near_the_end - timedelta(days=1)
    )
    services.certification_used(member=member, certification_id=laser.pk, at=near_the_end)
    assert ends(grants) == {
        "Shop basics": near_the_end + timedelta(days=1),  # revoked: untouched
        "Laser": datetime(2027, 3, 1, 10, tzinfo=UTC),  # capped at twelve months
    }
    late = datetime(2027, 6, 1, tzinfo=UTC)
    assert services.certification_used(member=member, certification_id=laser.pk, at=late) == 0


def test_other_members_and_certifications_that_do_not_lapse_are_untouched(lapsing):
    member, laser, _, _grants = lapsing
    forever = CertificationFactory(name="First aid", validity_months=None)
    kept = MemberCertificationFactory(member=member, certification=forever, expires_at=None)
    other = MemberCertificationFactory(
        certification=laser, granted_at=GRANTED, expires_at=GRANTED + timedelta(days=30)
    )
    services.certification_used(
        member=member, certification_id=forever.pk, at=GRANTED + timedelta(days=1)
    )
    services.certification_used(
        member=member, certification_id=laser.pk, at=GRANTED + timedelta(days=1)
    )
    assert MemberCertification.objects.get(pk=kept.pk).expires_at is None
    assert MemberCertification.objects.get(pk=other.pk).expires_at == GRANTED + timedelta(days=30)


def start_event(scene, session_id: str, at: datetime) -> tuple[str, bytes]:
    device = scene.machine.gate_devices.get()
    start = p.GateEvent(
        id=p.new_nonce(), kind=p.EVENT_SESSION_START, at=int(at.timestamp()),
        reason="allowed_booking", session_id=session_id, badge_uid=scene.badge_uid,
        allowed=True, grant_end=int(scene.booking.end.timestamp()),
    )  # fmt: skip
    batch = p.sign(
        p.EventBatch(device_id=device.device_id, sent_at=int(time.time()), events=(start,)),
        device.secret,
    )
    return p.gate_topic(device.device_id, p.Topic.EVENTS), batch.to_json()


def test_a_session_the_gate_reports_keeps_the_certification_alive_and_the_gate_decides_by_it(db):
    """Granted 40 days ago, lapsing after 30 unused: refused as expired. The member's session
    10 days ago (reported by the gate) would have kept it: after it, allowed again."""
    scene = build_scene()
    GateDeviceFactory(machine=scene.machine)
    laser = scene.machine.required_certification
    laser.lapses_after_days_unused = 30
    laser.save()
    now = scene.booking.start + timedelta(minutes=10)
    grant = MemberCertification.objects.get()
    MemberCertification.objects.filter(pk=grant.pk).update(
        granted_at=now - timedelta(days=40), expires_at=now - timedelta(days=10)
    )
    refused = access_decide(
        badge_uid=scene.badge_uid, machine=scene.machine, source=AccessSource.WEB, at=now
    ).decision
    assert (refused.allowed, refused.reason) == (False, "certification_expired")
    assert not selectors.member_holds_certification(
        member=scene.member, certification=laser, at=now
    )

    MemberCertification.objects.filter(pk=grant.pk).update(expires_at=now - timedelta(days=8))
    bridge = GateBridge()
    used = now - timedelta(days=10)
    bridge.handle(*start_event(scene, p.new_nonce(), used))
    assert MemberCertification.objects.get().expires_at == used.replace(microsecond=0) + timedelta(
        days=30
    )
    allowed = access_decide(
        badge_uid=scene.badge_uid, machine=scene.machine, source=AccessSource.WEB, at=now
    ).decision
    assert allowed.allowed
    assert selectors.member_holds_certification(member=scene.member, certification=laser, at=now)


def test_a_repeated_start_upload_and_a_machine_needing_nothing_change_no_grant(db):
    scene = build_scene()
    GateDeviceFactory(machine=scene.machine)
    laser = scene.machine.required_certification
    laser.lapses_after_days_unused = 30
    laser.save()
    # A second after the grant (event times are whole seconds).
    at = MemberCertification.objects.get().granted_at.replace(microsecond=0) + timedelta(seconds=2)
    bridge = GateBridge()
    message = start_event(scene, p.new_nonce(), at)
    bridge.handle(*message)
    first = MemberCertification.objects.get().expires_at
    assert first == at + timedelta(days=30)
    MemberCertification.objects.update(expires_at=first - timedelta(days=1))
    bridge.handle(*message)  # the same start again (a lost acknowledgement): not a new use
    assert MemberCertification.objects.get().expires_at == first - timedelta(days=1)
    scene.machine.required_certification = None
    scene.machine.save()
    bridge.handle(*start_event(scene, p.new_nonce(), at + timedelta(hours=1)))
    assert MemberCertification.objects.get().expires_at == first - timedelta(days=1)


def test_a_session_of_an_unknown_badge_changes_no_grant(db):
    scene = build_scene()
    device = GateDeviceFactory(machine=scene.machine)
    laser = scene.machine.required_certification
    laser.lapses_after_days_unused = 30
    laser.save()
    before = MemberCertification.objects.get().expires_at
    start = p.GateEvent(
        id=p.new_nonce(), kind=p.EVENT_SESSION_START, at=int(time.time()), reason="allowed_maintainer",
        session_id=p.new_nonce(), badge_uid="0BADC0DE", allowed=True, grant_end=None,
    )  # fmt: skip
    batch = p.sign(
        p.EventBatch(device_id=device.device_id, sent_at=int(time.time()), events=(start,)),
        device.secret,
    )
    GateBridge().handle(p.gate_topic(device.device_id, p.Topic.EVENTS), batch.to_json())
    assert MemberCertification.objects.get().expires_at == before
