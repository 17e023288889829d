"""Problem reports reach someone: the machine's maintainers are emailed through the task runner,
and a safety report takes the machine out of service in the report's own transaction (the gate
is told through the outbox, booked members by email) until a maintainer closes it."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from access.models import AccessSource, GateMessage
from access.services import access_decide
from bookings.states import BookingState
from core.errors import DuplicateSubmission
from equipment import selectors, services
from equipment.errors import EquipmentError
from equipment.models import MachineState, MachineStateChange, ProblemReport, Severity
from membership import roles
from tests.access.conftest import build_scene
from tests.factories.access import GateDeviceFactory
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory, ProblemReportFactory
from tests.factories.membership import MemberFactory, UserFactory


@pytest.fixture
def maintainer(db):
    return UserFactory(email="fixer@example.test")


@pytest.fixture
def machine(maintainer):
    machine = MachineFactory(name="Laser")
    machine.maintainers.add(maintainer)
    return machine


@pytest.fixture
def reporter(db):
    return UserFactory(email="maker@example.test")


def report(machine, reporter, severity=Severity.MINOR, text="The lens is cracked", **kwargs):
    return services.problem_report_create(
        machine=machine, reporter=reporter, description=text, severity=severity, **kwargs
    )


def test_a_minor_report_emails_the_maintainers_and_leaves_the_machine_in_service(
    machine, reporter, gate_calls, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        filed = report(machine, reporter, text="The fan rattles")
    assert len(callbacks) == 1
    assert [m.to for m in mail.outbox] == [["fixer@example.test"]]
    assert mail.outbox[0].subject == "[Toolgate Makerspace] Minor problem: Laser"
    assert "The fan rattles" in mail.outbox[0].body
    assert "taken out of service" not in mail.outbox[0].body
    machine.refresh_from_db()
    assert machine.state == MachineState.IN_SERVICE
    assert filed.state_change is None and gate_calls == []


def test_a_machine_without_maintainers_reports_to_staff_who_manage_machines(
    reporter, django_capture_on_commit_callbacks
):
    UserFactory(role=roles.STAFF, email="desk@example.test")
    UserFactory(is_superuser=True, email="root@example.test")
    UserFactory(role=roles.INSTRUCTOR, email="teacher@example.test")
    UserFactory(role=roles.STAFF, email="gone@example.test", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        report(MachineFactory(), reporter, Severity.BROKEN)
    assert mail.outbox[0].to == ["desk@example.test", "root@example.test"]
    assert mail.outbox[0].subject.startswith("[Toolgate Makerspace] Broken problem:")


def test_only_active_maintainers_with_an_address_are_told(machine, maintainer):
    machine.maintainers.add(UserFactory(email="", is_active=True))
    machine.maintainers.add(UserFactory(email="left@example.test", is_active=False))
    recipients = selectors.problem_report_recipients(machine)
    assert [user.email for user in recipients] == ["fixer@example.test"]


def test_a_safety_report_takes_the_machine_out_of_service_at_once(
    machine, reporter, gate_calls, django_capture_on_commit_callbacks
):
    """One atomic block: the report, the state change by the reporter, the gates told."""
    text = "Smoke from the exhaust " + "x" * 400
    with django_capture_on_commit_callbacks(execute=True):
        filed = report(machine, reporter, Severity.SAFETY, text=text)
    machine.refresh_from_db()
    assert machine.state == MachineState.OUT_OF_SERVICE
    assert machine.state_reason.startswith("Safety report: Smoke from the exhaust x")
    assert len(machine.state_reason) == len("Safety report: ") + services.SAFETY_REASON_CHARS
    assert machine.state_reason.endswith("…")
    change = MachineStateChange.objects.get()
    assert (change.actor, change.from_state, change.to_state) == (
        reporter,
        MachineState.IN_SERVICE,
        MachineState.OUT_OF_SERVICE,
    )
    assert filed.state_change == change
    assert [name for name, _ in gate_calls] == ["machine_left_service"]
    assert (
        mail.outbox[0].subject
        == "[Toolgate Makerspace] Unsafe problem: Laser (taken out of service)"
    )
    assert "comes back into service when a maintainer closes" in mail.outbox[0].body


def test_maintainers_are_told_in_their_own_languages_one_email_each_language(
    machine, maintainer, reporter, django_capture_on_commit_callbacks
):
    """One maintainer reads Korean, the other English: two messages, each wholly in its
    language, the out-of-service note of the subject too."""
    machine.maintainers.add(UserFactory(email="gogo@example.test", language="ko"))
    with django_capture_on_commit_callbacks(execute=True):
        report(machine, reporter, Severity.SAFETY, text="The exhaust smokes")
    by_address = {tuple(m.to): m for m in mail.outbox}
    assert set(by_address) == {("fixer@example.test",), ("gogo@example.test",)}
    korean, english = by_address[("gogo@example.test",)], by_address[("fixer@example.test",)]
    assert korean.subject == "[Toolgate Makerspace] 위험 문제: Laser (사용 중지됨)"
    assert "즉시 사용 중지되었습니다" in korean.body and "The exhaust smokes" in korean.body
    assert "reported a problem" not in korean.body and "Severity" not in korean.body
    assert english.subject == "[Toolgate Makerspace] Unsafe problem: Laser (taken out of service)"
    assert "reported a problem with Laser" in english.body


def test_a_safety_report_on_a_machine_already_out_of_service_changes_nothing_else(
    machine, reporter, gate_calls
):
    services.machine_set_state(machine=machine, state="out_of_service", reason="Belt", actor=None)
    filed = report(machine, reporter, Severity.SAFETY)
    assert filed.state_change is None
    assert MachineStateChange.objects.count() == 1
    machine.refresh_from_db()
    assert machine.state_reason == "Belt"


def test_the_gate_refuses_and_is_sent_a_switch_off_through_the_outbox(
    db, settings, django_capture_on_commit_callbacks
):
    """The member booked now was allowed; after the safety report the decision refuses and a
    signed switch-off to the machine's gate waits in the outbox (the bridge delivers it)."""
    settings.GATE_BROKER_URL = "mqtt://127.0.0.1:1"
    scene = build_scene()
    device = GateDeviceFactory(machine=scene.machine)
    assert access_decide(
        badge_uid=scene.badge_uid, machine=scene.machine, source=AccessSource.GATE
    ).decision.allowed
    with django_capture_on_commit_callbacks(execute=True):
        report(scene.machine, scene.member.user, Severity.SAFETY, text="Sparks")
    command = GateMessage.objects.get(device=device, reason="out_of_service")
    assert "Safety report: Sparks" in command.message
    refused = access_decide(
        badge_uid=scene.badge_uid, machine=scene.machine, source=AccessSource.GATE
    ).decision
    assert (refused.allowed, refused.reason) == (False, "machine_out_of_service")


def test_members_booked_on_the_machine_are_told_and_their_bookings_stand(
    machine, reporter, django_capture_on_commit_callbacks
):
    now = timezone.now()
    upcoming = BookingFactory(machine=machine, start=now + timedelta(days=1))
    running = BookingFactory(
        machine=machine, start=now - timedelta(minutes=30), state=BookingState.CHECKED_IN
    )
    BookingFactory(machine=machine, start=now - timedelta(hours=3))  # over
    BookingFactory(machine=machine, start=now + timedelta(days=2), state=BookingState.CANCELLED)
    BookingFactory(start=now + timedelta(days=1))  # another machine
    with django_capture_on_commit_callbacks(execute=True):
        report(machine, reporter, Severity.SAFETY, text="Sparks")
    told = sorted(m.to[0] for m in mail.outbox if "is out of service" in m.subject)
    assert told == sorted([upcoming.member.user.email, running.member.user.email])
    body = next(m.body for m in mail.outbox if m.to == [upcoming.member.user.email])
    assert "taken out of service: Safety report: Sparks" in body
    assert "stands for now" in body
    upcoming.refresh_from_db()
    assert upcoming.state == BookingState.CONFIRMED


def test_taking_a_machine_out_of_service_by_hand_tells_booked_members_too(
    machine, django_capture_on_commit_callbacks
):
    booking = BookingFactory(machine=machine, start=timezone.now() + timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        services.machine_set_state(
            machine=machine, state="out_of_service", reason="New tube", actor=None
        )
    assert [m.to for m in mail.outbox] == [[booking.member.user.email]]
    assert mail.outbox[0].subject == "[Toolgate Makerspace] Laser is out of service"


def test_a_refused_report_changes_nothing_and_emails_nobody(
    machine, reporter, gate_calls, django_capture_on_commit_callbacks
):
    """The same form sent twice: the second is refused whole, the machine untouched."""
    BookingFactory(machine=machine, start=timezone.now() + timedelta(hours=2))
    token = uuid.uuid4()
    report(machine, reporter, Severity.MINOR, token=token)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(DuplicateSubmission),
    ):
        report(machine, reporter, Severity.SAFETY, token=token)
    assert callbacks == [] and gate_calls == []
    machine.refresh_from_db()
    assert machine.state == MachineState.IN_SERVICE
    assert ProblemReport.objects.count() == 1


@pytest.mark.parametrize(
    ("severity", "text", "problem"),
    [
        ("urgent", "Sparks", "'urgent' is not a severity."),
        (Severity.SAFETY, "  \n ", "Describe the problem so staff can fix it."),
    ],
)
def test_a_report_needs_a_known_severity_and_a_description(
    machine, reporter, severity, text, problem
):
    with pytest.raises(EquipmentError, match=problem):
        report(machine, reporter, severity, text=text)
    machine.refresh_from_db()
    assert machine.state == MachineState.IN_SERVICE


def test_the_machine_stays_out_until_a_maintainer_closes_the_safety_report(
    machine, reporter, maintainer, gate_calls
):
    filed = report(machine, reporter, Severity.SAFETY)
    with pytest.raises(EquipmentError, match="open safety report: close it"):
        services.machine_set_state(machine=machine, state="in_service", reason="", actor=maintainer)
    with pytest.raises(EquipmentError, match="Only this machine's maintainers"):
        services.problem_report_resolve(report=filed, actor=reporter, resolution="Looks fine")
    with pytest.raises(EquipmentError, match="Say what was done"):
        services.problem_report_resolve(report=filed, actor=maintainer, resolution="  ")
    services.problem_report_resolve(report=filed, actor=maintainer, resolution="New lens fitted")
    machine.refresh_from_db()
    assert machine.state == MachineState.IN_SERVICE and machine.state_reason == ""
    back = MachineStateChange.objects.order_by("-id").first()
    assert (back.actor, back.to_state, back.reason) == (
        maintainer,
        MachineState.IN_SERVICE,
        "Safety report closed: New lens fitted",
    )
    assert [name for name, _ in gate_calls] == ["machine_left_service", "machines_changed"]


def test_with_two_safety_reports_the_machine_returns_when_the_last_is_closed(
    machine, reporter, maintainer
):
    first = report(machine, reporter, Severity.SAFETY, text="Sparks")
    second = report(machine, UserFactory(), Severity.SAFETY, text="Burning smell")
    services.problem_report_resolve(report=first, actor=maintainer, resolution="Rewired")
    machine.refresh_from_db()
    assert machine.state == MachineState.OUT_OF_SERVICE
    services.problem_report_resolve(report=second, actor=maintainer, resolution="Same fault")
    machine.refresh_from_db()
    assert machine.state == MachineState.IN_SERVICE


def test_closing_a_minor_report_leaves_a_machine_out_for_a_safety_report(
    machine, reporter, maintainer
):
    report(machine, reporter, Severity.SAFETY)
    minor = report(machine, reporter, Severity.MINOR)
    services.problem_report_resolve(report=minor, actor=maintainer, resolution="")
    machine.refresh_from_db()
    assert machine.state == MachineState.OUT_OF_SERVICE


@pytest.mark.parametrize("before", [True, False])
def test_a_machine_a_maintainer_took_out_stays_out_when_the_report_closes(
    machine, reporter, maintainer, before
):
    """Out of service for another reason (before the report, or changed since): closing the
    safety report does not undo a person's decision."""
    if before:
        services.machine_set_state(
            machine=machine, state="out_of_service", reason="Tube", actor=None
        )
    filed = report(machine, reporter, Severity.SAFETY)
    if not before:
        services.machine_set_state(machine=machine, state="retired", reason="Sold", actor=None)
    services.problem_report_resolve(report=filed, actor=maintainer, resolution="Checked")
    machine.refresh_from_db()
    assert machine.state == (MachineState.OUT_OF_SERVICE if before else MachineState.RETIRED)


def test_a_closed_report_cannot_be_closed_again(machine, reporter, maintainer):
    filed = report(machine, reporter)
    services.problem_report_resolve(report=filed, actor=maintainer, resolution="")
    with pytest.raises(EquipmentError, match="already closed"):
        services.problem_report_resolve(report=filed, actor=maintainer, resolution="")


def test_open_reports_are_listed_worst_first_then_oldest_first_and_counted(machine, reporter):
    now = timezone.now()
    old_minor = ProblemReportFactory(machine=machine, created_at=now - timedelta(days=3))
    new_safety = ProblemReportFactory(machine=machine, severity=Severity.SAFETY, created_at=now)
    old_safety = ProblemReportFactory(
        machine=machine, severity=Severity.SAFETY, created_at=now - timedelta(days=1)
    )
    broken = ProblemReportFactory(machine=machine, severity=Severity.BROKEN)
    ProblemReportFactory(machine=machine, severity=Severity.SAFETY, resolved_at=now)
    assert list(selectors.problem_reports_open()) == [old_safety, new_safety, broken, old_minor]
    assert selectors.problem_reports_open_counts() == {
        "total": 4,
        "safety": 2,
        "broken": 1,
        "minor": 1,
    }
    other = ProblemReportFactory(severity=Severity.BROKEN)
    narrowed = selectors.problem_reports_open(ProblemReport.objects.exclude(machine=machine))
    assert list(narrowed) == [other]


# -- pages ---------------------------------------------------------------------------------


def test_the_member_picks_a_severity_and_reads_what_happened(client, machine):
    member = MemberFactory()
    client.force_login(member.user)
    response = client.post(
        reverse("equipment:problem_report", args=[machine.slug]),
        {"description": "Sparks", "severity": "safety", "form_token": uuid.uuid4()},
        follow=True,
    )
    assert "Thank you: Laser is out of service now, and its maintainers are told." in (
        response.content.decode()
    )
    response = client.post(
        reverse("equipment:problem_report", args=[machine.slug]),
        {"description": "Wobbly stool", "form_token": uuid.uuid4()},
        follow=True,
    )
    assert "Thank you: the machine&#x27;s maintainers are told." in response.content.decode()
    assert ProblemReport.objects.get(description="Wobbly stool").severity == Severity.MINOR


def test_staff_menu_counts_open_reports_in_one_query(client, django_assert_num_queries, machine):
    ProblemReportFactory(machine=machine, severity=Severity.SAFETY)
    ProblemReportFactory(machine=machine)
    staff = UserFactory(role=roles.STAFF)
    client.force_login(staff)
    page = client.get(reverse("equipment:machine_list")).content.decode()
    assert 'title="2 open, 1 unsafe">2<span class="visually-hidden"> open</span>' in page
    assert "count danger" in page
    from django.test import RequestFactory

    from equipment.context_processors import problem_reports

    request = RequestFactory().get("/")
    request.user = staff
    staff.has_perm("equipment.manage_machines")  # permissions cached, as in a request
    with django_assert_num_queries(1):
        assert problem_reports(request)["open_problem_counts"]["total"] == 2


def test_members_see_no_report_menu_and_may_not_list_reports(client, machine):
    member = MemberFactory()
    client.force_login(member.user)
    page = client.get(reverse("equipment:machine_list")).content.decode()
    assert "Problem reports" not in page
    assert client.get(reverse("equipment:problem_list")).status_code == 403


def test_long_unbroken_text_is_wrapped_in_the_list(client, machine):
    ProblemReportFactory(machine=machine, description="A" * 3000, severity=Severity.BROKEN)
    client.force_login(UserFactory(role=roles.STAFF))
    page = client.get(reverse("equipment:problem_list")).content.decode()
    assert '<td class="wrap-anywhere">' + "A" * 3000 in page
    assert '<span class="pill broken">Broken</span>' in page
