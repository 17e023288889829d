"""What a member still needs before they can use a machine, gathered from every app.

Later apps (training) add their own steps with `register`, so the dashboard and the staff member
page list everything without membership importing them. A step's `title` names the condition for
anyone; its `detail` and `url` speak to the member themself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from membership import selectors
from membership.models import Member


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    done: bool
    detail: str
    url: str = ""


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


def member_readiness(member: Member) -> Readiness:
    return Readiness([step for check in _checks for step in check(member)])


@register
def membership_steps(member: Member) -> list[Step]:
    membership = getattr(member, "membership", None)
    paid = selectors.membership_in_good_standing(membership, at=timezone.now())
    if paid:
        payment_detail = "Your membership is paid up."
    elif membership is None:
        payment_detail = "You have no membership yet."
    else:
        payment_detail = (
            f"Your membership is {membership.get_status_display().lower()}: "
            "pay the monthly fee to use machines."
        )
    signed = selectors.member_signed_current_waiver(member)
    badge = selectors.member_enabled_badge(member)
    return [
        Step("payment", "Membership paid", paid, payment_detail, reverse("membership_billing")),
        Step(
            "waiver",
            "Safety waiver signed",
            signed,
            "You signed the current safety waiver."
            if signed
            else "Read and sign the current safety waiver.",
            reverse("waiver_sign"),
        ),
        Step(
            "badge",
            "Badge issued",
            badge is not None,
            f"Badge {badge.uid} is active." if badge else "Pick up a badge at the front desk.",
        ),
    ]
