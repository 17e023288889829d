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

from core import formats
from membership import selectors
from membership.models import Member, MembershipStatus


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    done: bool
    detail: str
    url: str = ""
    # Holds for now, but will not for long (past due in the grace period): shown as a warning,
    # with its link, though nothing is missing yet.
    warning: bool = False
    url_label: str = "Do it now"


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
    payment = Step("payment", "Membership paid", paid, "Your membership is paid up.", billing)
    if membership is None:
        payment = Step("payment", "Membership paid", False, "You have no membership yet.", billing)
    elif membership.status == MembershipStatus.PAST_DUE and paid:
        assert membership.current_period_end is not None  # in good standing while past due
        payment = Step(
            "payment",
            "Membership past due",
            True,
            f"Past due: paid through {formats.format_date(membership.current_period_end)}, "
            "access continues until "
            f"{formats.format_date(selectors.grace_ends(membership.current_period_end))} (grace).",
            billing,
            warning=True,
            url_label="Pay now",
        )
    elif not paid:
        through = (
            f" (paid through {formats.format_date(membership.current_period_end)})"
            if membership.current_period_end
            else ""
        )
        payment = Step(
            "payment",
            "Membership paid",
            False,
            f"Your membership is {membership.get_status_display().lower()}{through}: "
            "pay the monthly fee to use machines.",
            billing,
            url_label="Pay",
        )
    elif membership.current_period_end:
        payment = Step(
            "payment",
            "Membership paid",
            True,
            f"Paid through {formats.format_date(membership.current_period_end)}.",
            billing,
        )
    if not paid:
        opened = [line for provider in _stand_ins for line in provider(member, now)]
        if opened:
            payment = Step(
                "payment",
                "; ".join(opened),
                True,
                "Your pass opens only these machines, on its day; a membership opens every "
                "machine, every day.",
                billing,
                warning=True,
                url_label="Membership",
            )
    signed = selectors.member_signed_current_waiver(member)
    badge = selectors.member_enabled_badge(member)
    return [
        payment,
        Step(
            "waiver",
            "Safety waiver signed",
            signed,
            "You signed the current safety waiver."
            if signed
            else "Read and sign the current safety waiver.",
            reverse("waiver_sign"),
            url_label="Sign it",
        ),
        Step(
            "badge",
            "Badge issued",
            badge is not None,
            f"Badge {badge.uid} is active." if badge else "Pick up a badge at the front desk.",
        ),
    ]
