"""What a member still needs before they can use a machine, gathered from every app.

Later apps (training) add their own steps with `register`, so the dashboard and the staff member
page list everything without membership importing them. A step's `title` names the condition for
anyone; its `detail` and `url` speak to the member themself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import formats
from membership import selectors
from membership.models import Member, MembershipStatus


@dataclass(frozen=True)
class Step:
    key: str
    title: str  # the sentences are translated when the steps are gathered, for the viewer
    done: bool
    detail: str
    url: str = ""
    # Holds for now, but will not for long (past due in the grace period): shown as a warning,
    # with its link, though nothing is missing yet.
    warning: bool = False
    # A lazy translation is immutable and read in the viewer's language when shown.
    url_label: str | Promise = gettext_lazy("Do it now")  # noqa: RUF009


StepCheck = Callable[[Member], list[Step]]
_checks: list[StepCheck] = []


def register(check: StepCheck) -> StepCheck:
    if check not in _checks:
        _checks.append(check)
    return check


@dataclass(frozen=True)
class Readiness:
    steps: list[Step]

    @property
    def missing(self) -> list[Step]:
        return [step for step in self.steps if not step.done]


# What opens some machines without a paid membership (a day pass, from equipment): each says
# what `member` may use at `now`, a sentence each, so the checklist tells a pass holder what
# their pass opens rather than that their membership is inactive.
StandIn = Callable[[Member, datetime], list[str]]
_stand_ins: list[StandIn] = []


def stand_in_register(provider: StandIn) -> None:
    if provider not in _stand_ins:
        _stand_ins.append(provider)


def member_readiness(member: Member) -> Readiness:
    return Readiness([step for check in _checks for step in check(member)])


@register
def membership_steps(member: Member) -> list[Step]:
    membership = getattr(member, "membership", None)
    now = timezone.now()
    paid = selectors.membership_in_good_standing(membership, at=now)
    billing = reverse("membership_billing")
    payment = Step("payment", _("Membership paid"), paid, _("Your membership is paid up."), billing)
    if membership is None:
        payment = Step(
            "payment", _("Membership paid"), False, _("You have no membership yet."), billing
        )
    elif membership.status == MembershipStatus.PAST_DUE and paid:
        assert membership.current_period_end is not None  # in good standing while past due
        payment = Step(
            "payment",
            _("Membership past due"),
            True,
            _("Past due: paid through %(paid)s, access continues until %(grace)s (grace).")
            % {
                "paid": formats.format_date(membership.current_period_end),
                "grace": formats.format_date(selectors.grace_ends(membership.current_period_end)),
            },
            billing,
            warning=True,
            url_label=_("Pay now"),
        )
    elif not paid:
        status = membership.get_status_display().lower()
        detail = (
            _(
                "Your membership is %(status)s (paid through %(paid)s): pay the monthly fee to "
                "use machines."
            )
            % {"status": status, "paid": formats.format_date(membership.current_period_end)}
            if membership.current_period_end
            else _("Your membership is %(status)s: pay the monthly fee to use machines.")
            % {"status": status}
        )
        payment = Step(
            "payment",
            _("Membership paid"),
            False,
            detail,
            billing,
            url_label=_("Pay"),
        )
    elif membership.current_period_end:
        payment = Step(
            "payment",
            _("Membership paid"),
            True,
            _("Paid through %(day)s.")
            % {"day": formats.format_date(membership.current_period_end)},
            billing,
        )
    if not paid:
        opened = [line for provider in _stand_ins for line in provider(member, now)]
        if opened:
            payment = Step(
                "payment",
                "; ".join(opened),
                True,
                _(
                    "Your pass opens only these machines, on its day; a membership opens every "
                    "machine, every day."
                ),
                billing,
                warning=True,
                url_label=_("Membership"),
            )
    signed = selectors.member_signed_current_waiver(member)
    badge = selectors.member_enabled_badge(member)
    return [
        payment,
        Step(
            "waiver",
            _("Safety waiver signed"),
            signed,
            _("You signed the current safety waiver.")
            if signed
            else _("Read and sign the current safety waiver."),
            reverse("waiver_sign"),
            url_label=_("Sign it"),
        ),
        Step(
            "badge",
            _("Badge issued"),
            badge is not None,
            _("Badge %(uid)s is active.") % {"uid": badge.uid}
            if badge
            else _("Pick up a badge at the front desk."),
        ),
    ]
