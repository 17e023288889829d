"""The dashboard step training adds: the foundation safety certification, and where to get it."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from membership.models import Member
from membership.readiness import Step
from training import selectors


def certification_steps(member: Member) -> list[Step]:
    now = timezone.now()
    foundations = list(selectors.base_certifications())
    if not foundations:
        return []
    missing = [
        c
        for c in foundations
        if not selectors.member_holds_certification(member=member, certification=c, at=now)
    ]
    held = [
        h
        for h in selectors.member_certification_summary(member, at=now)
        if h.state in (selectors.GrantState.VALID, selectors.GrantState.EXPIRING)
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
            when = date_format(timezone.localtime(next_class.start), "D j M, H:i")
            todo = f"Take {names}: next class {when} ({seats})."
            url = reverse("training:session_detail", args=[next_class.pk])
        else:
            todo = f"Take {names}: no class is scheduled yet, ask for one on the classes page."
        detail = f"{todo} {held_text}" if held else todo
    else:
        detail = f"{held_text} See the classes page for more machines."
    title = " and ".join(str(c) for c in foundations)
    return [Step("certifications", f"{title} certified", not missing, detail, url)]


def _held(held: selectors.HeldCertification) -> str:
    if held.state == selectors.GrantState.EXPIRING:
        expires = date_format(timezone.localtime(held.grant.expires_at), "j M Y")
        return f"{held.certification} (expires {expires}: renew it)"
    return str(held.certification)
