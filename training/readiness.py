"""The dashboard step training adds: the foundation safety certification, and where to get it."""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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
        _("You hold %(certifications)s.") % {"certifications": ", ".join(_held(h) for h in held)}
        if held
        else _("You hold no certification yet.")
    )
    url = reverse("training:class_list")
    if missing:
        names = _and(str(c) for c in missing)
        next_class = selectors.sessions_upcoming(at=now, certification=missing[0]).first()
        if next_class is not None:
            free = next_class.seats_free
            seats = (
                ngettext("%(count)s seat free", "%(count)s seats free", free) % {"count": free}
                if free
                else _("waitlist open")
            )
            when = formats.format_moment(next_class.start)
            todo = _("Take %(names)s: next class %(when)s (%(seats)s).") % {
                "names": names,
                "when": when,
                "seats": seats,
            }
            url = reverse("training:session_detail", args=[next_class.pk])
        else:
            todo = _(
                "Take %(names)s: no class is scheduled yet, ask for one on the classes page."
            ) % {"names": names}
        detail = f"{todo} {held_text}" if held else todo
    else:
        detail = " ".join([held_text, _("See the classes page for more machines.")])
    title = _("%(certifications)s certified") % {
        "certifications": _and(str(c) for c in foundations)
    }
    return [
        Step("certifications", title, not missing, detail, url),
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
        when = {"when": formats.format_moment(session.start)} if session else None
        if held.state == selectors.GrantState.EXPIRED and held.grant.expires_at:
            title = _("%(certification)s: expired %(date)s") % {
                "certification": certification,
                "date": formats.format_date(held.grant.expires_at),
            }
            detail = (
                _("Book a refresher: next class %(when)s.") % when
                if when
                else _("Book a refresher: ask for a class.")
            )
            label = _("Book a refresher")
        else:
            title = _("%(certification)s: revoked") % {"certification": certification}
            detail = (
                _("Take the class again: next class %(when)s.") % when
                if when
                else _("Take the class again: ask for a class.")
            )
            label = _("Enrol")
        steps.append(Step(f"lapsed-{certification.pk}", title, False, detail, url, url_label=label))
    return steps


def _held(held: selectors.HeldCertification) -> str:
    if held.state == selectors.GrantState.EXPIRING:
        expires = formats.format_date(held.grant.expires_at)
        return _("%(certification)s (expires %(date)s: renew it)") % {
            "certification": held.certification,
            "date": expires,
        }
    return str(held.certification)


def _and(names: Iterable[str]) -> str:
    """ "A and B and C": each pair joined as a whole phrase, so a translation orders it."""
    return reduce(
        lambda first, second: _("%(first)s and %(second)s") % {"first": first, "second": second},
        names,
    )
