"""The dashboard step training adds: the foundation safety certification, and where to get it."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from core import formats
from membership.models import Member
from membership.readiness import Step
from training import selectors


def certification_steps(member: Member) -> list[Step]:
    now = timezone.now()
    foundations = list(selectors.base_certifications())
    if not foundations:
        return []
    holds = selectors.member_holds_certifications(member=member, certifications=foundations, at=now)
    missing = [c for c in foundations if c.pk not in holds]
    summary = selectors.member_certification_summary(member, at=now)
    held = [
        h for h in summary if h.state in (selectors.GrantState.VALID, selectors.GrantState.EXPIRING)
    ]
    held_text = (
        "You hold " + ", ".join(_held(h) for h in held) + "."
        if held
        else "You hold no certification yet."
    )
    url = reverse("training:class_list")
    if missing:
        names = " and ".join(str(c) for c in missing)
        next_class = selectors.sessions_upcoming(at=now, certification=missing[0]).first()
        if next_class is not None:
            free = next_class.seats_free
            seats = f"{free} seat{'s' if free != 1 else ''} free" if free else "waitlist open"
            when = formats.format_moment(next_class.start)
            todo = f"Take {names}: next class {when} ({seats})."
            url = reverse("training:session_detail", args=[next_class.pk])
        else:
            todo = f"Take {names}: no class is scheduled yet, ask for one on the classes page."
        detail = f"{todo} {held_text}" if held else todo
    else:
        detail = f"{held_text} See the classes page for more machines."
    title = " and ".join(str(c) for c in foundations)
    return [
        Step("certifications", f"{title} certified", not missing, detail, url),
        *lapsed_steps(summary, now=now),
    ]


def lapsed_steps(summary: list[selectors.HeldCertification], *, now) -> list[Step]:
    """A certification the member held that no longer counts (expired or revoked), and no valid
    grant of it: "Laser cutter: expired Wed 16 Dec 2026", with the next class to take again.
    `summary` is the member's `member_certification_summary` at `now`."""
    steps = []
    for held in summary:
        if held.state not in (selectors.GrantState.EXPIRED, selectors.GrantState.REVOKED):
            continue
        certification = held.certification
        session = selectors.sessions_upcoming(at=now, certification=certification).first()
        url = (
            reverse("training:session_detail", args=[session.pk])
            if session
            else reverse("training:class_list")
        )
        when = (
            f"next class {formats.format_moment(session.start)}" if session else "ask for a class"
        )
        if held.state == selectors.GrantState.EXPIRED and held.grant.expires_at:
            title = f"{certification}: expired {formats.format_date(held.grant.expires_at)}"
            detail = f"Book a refresher: {when}."
            label = "Book a refresher"
        else:
            title = f"{certification}: revoked"
            detail = f"Take the class again: {when}."
            label = "Enrol"
        steps.append(Step(f"lapsed-{certification.pk}", title, False, detail, url, url_label=label))
    return steps


def _held(held: selectors.HeldCertification) -> str:
    if held.state == selectors.GrantState.EXPIRING:
        expires = formats.format_date(held.grant.expires_at)
        return f"{held.certification} (expires {expires}: renew it)"
    return str(held.certification)
