"""Day pass endpoints: a member buys one through Checkout; staff sell one at the desk, or
cancel one."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.money import money_format
from core.views import form_action
from equipment.daypasses import services
from equipment.daypasses.forms import DayPassBuyForm, DayPassCancelForm, DayPassSellForm
from equipment.daypasses.models import DayPass, DayPassProduct, DayPassState
from membership import services as membership_services
from membership.models import Member
from staffing.shortcuts import staff_object_or_404


@require_POST
@login_required
def day_pass_buy(request, pk: int):
    """Buy a pass for a day through Checkout; it opens its machines once the webhook says paid."""
    holder = membership_services.member_get_or_create(user=request.user)
    product = get_object_or_404(DayPassProduct, pk=pk, active=True)
    bought = form_action(
        request,
        DayPassBuyForm(request.POST),
        lambda data: services.day_pass_checkout(holder=holder, product=product, day=data["day"]),
    )
    return redirect(bought.value if bought else "membership_billing")


@require_POST
@login_required
@permission_required("membership.record_payment", raise_exception=True)
def day_pass_sell(request, pk: int):
    """Sell a pass at the desk to the member of the staff page (cash, credits, card on file)."""
    holder = staff_object_or_404(request, Member, what="sell a day pass", pk=pk)
    form = DayPassSellForm(request.POST)
    form_action(
        request,
        form,
        lambda data: services.day_pass_sell_at_desk(
            holder=holder,
            product=data["product"],
            day=data["day"],
            method=data["method"],
            actor=request.user,
            token=data["form_token"],
            discount=form.discount(data["product"].currency),
        ),
        success=lambda sold: (
            (
                _("%(product)s for %(day)s sold.")
                if sold.state == DayPassState.PAID
                else _(
                    "%(product)s for %(day)s: the card payment is processing; the pass opens "
                    "machines once Stripe confirms it."
                )
            )
            % {"product": sold.product.name, "day": f"{sold.day:%Y-%m-%d}"}
        ),
    )
    return redirect("staff_member_detail", pk=holder.pk)


@require_POST
@login_required
@permission_required("membership.record_payment", raise_exception=True)
def day_pass_cancel(request, pk: int):
    """Cancel a pass from its holder's staff page, with a reason (and a refund, if asked)."""
    day_pass = get_object_or_404(DayPass.objects.select_related("product"), pk=pk)
    holder = staff_object_or_404(request, Member, what="cancel a day pass", pk=day_pass.holder_id)
    form_action(
        request,
        DayPassCancelForm(request.POST),
        lambda data: services.day_pass_cancel(
            day_pass=day_pass,
            actor=request.user,
            reason=data["reason"],
            refund=data["refund"],
            token=data["form_token"],
        ),
        success=lambda refunded: (
            (
                _("%(product)s for %(day)s cancelled; %(amount)s refunded.")
                if refunded
                else _("%(product)s for %(day)s cancelled.")
            )
            % {
                "product": day_pass.product.name,
                "day": f"{day_pass.day:%Y-%m-%d}",
                "amount": money_format(refunded, day_pass.currency),
            }
        ),
    )
    return redirect("staff_member_detail", pk=holder.pk)
