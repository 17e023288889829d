"""Front-desk pages for staff: find a member, badges, manual payments, membership state."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.views import form_action
from membership import cards, readiness, selectors, services
from membership.billing import desk
from membership.billing import selectors as billing_selectors
from membership.billing.config import billing_mode
from membership.billing.ledger import ledger_reverse
from membership.billing.refund_sending import refund_retry
from membership.billing.sections import staff_sections
from membership.errors import CardTokenInvalid
from membership.forms import (
    BadgeAssignForm,
    BadgeDisableForm,
    BadgeReplaceForm,
    LedgerReverseForm,
    ManualPaymentForm,
    MaterialSaleForm,
    MemberSearchForm,
    MembershipStatusForm,
    RefundRetryForm,
)
from membership.models import Badge, ChangeCause, LedgerEntry, Member, StripeRefund
from staffing.selectors import staff_scope
from staffing.services import require_at_location
from staffing.shortcuts import staff_object_or_404

staff_required = permission_required("membership.manage_members", raise_exception=True)


@login_required
@staff_required
def member_search(request):
    form = MemberSearchForm(request.GET or None)
    results = (
        selectors.member_search_results(form.data.get("q", ""), scope=staff_scope(request.user))
        if form.is_bound
        else None
    )
    return render(
        request, "membership/staff/member_search.html", {"form": form, "results": results}
    )


@login_required
@staff_required
def member_detail(request, pk: int):
    member = staff_object_or_404(
        request,
        Member.objects.select_related("user", "membership__plan"),
        what="member page",
        pk=pk,
    )
    return render(request, "membership/staff/member_detail.html", _detail_context(member))


def _detail_context(member: Member, **forms) -> dict:
    membership = getattr(member, "membership", None)
    context = {
        "member": member,
        "membership": membership,
        "badges": member.badges.all(),
        "payments": member.payments.select_related("recorded_by")[:24],
        "changes": membership.changes.select_related("actor")[:50] if membership else [],
        "readiness": readiness.member_readiness(member),
        "signed_waiver": selectors.member_signed_current_waiver(member),
        "signatures": member.waiver_signatures.select_related("waiver"),
        "badge_form": BadgeAssignForm(),
        "payment_form": ManualPaymentForm(),
        "status_form": MembershipStatusForm(initial={"status": getattr(membership, "status", "")}),
        "billing_mode": billing_mode(),
        "stripe_events": billing_selectors.membership_stripe_events(membership)[:50],
        "ledger": billing_selectors.member_ledger(member)[:100],
        "refunds_open": billing_selectors.member_refunds_open(member),
        "balances": billing_selectors.member_balances(member),
        "sale_form": MaterialSaleForm(),
        "sales": member.material_sales.select_related("material")[:20],
        "staff_sections": staff_sections(member),
    }
    context.update(forms)
    return context


def _run(request, member: Member, form, action, success: str | Callable, form_name: str):
    """Run the form action; done, back to the member page, else the page again with the form."""
    if form_action(request, form, action, success=success):
        return redirect("staff_member_detail", pk=member.pk)
    response = render(
        request, "membership/staff/member_detail.html", _detail_context(member, **{form_name: form})
    )
    response.status_code = 400
    return response


@require_POST
@login_required
@staff_required
def badge_assign(request, pk: int):
    member = staff_object_or_404(request, Member, what="assign a badge", pk=pk)
    return _run(
        request,
        member,
        BadgeAssignForm(request.POST),
        lambda data: services.badge_assign(
            member=member, uid=data["uid"], actor=request.user, token=data["form_token"]
        ),
        _("Badge assigned."),
        "badge_form",
    )


@require_POST
@login_required
@staff_required
def badge_disable(request, pk: int):
    badge = staff_object_or_404(
        request, Badge.objects.select_related("member"), what="disable a badge", pk=pk
    )
    return _run(
        request,
        badge.member,
        BadgeDisableForm(request.POST),
        lambda data: services.badge_disable(
            badge=badge, reason=data["reason"], actor=request.user, token=data["form_token"]
        ),
        _("Badge %(uid)s disabled.") % {"uid": badge.uid},
        "disable_form",
    )


@require_POST
@login_required
@staff_required
def badge_replace(request, pk: int):
    badge = staff_object_or_404(
        request, Badge.objects.select_related("member"), what="replace a badge", pk=pk
    )
    return _run(
        request,
        badge.member,
        BadgeReplaceForm(request.POST),
        lambda data: services.badge_replace(
            badge=badge,
            new_uid=data["new_uid"],
            reason=data["reason"],
            actor=request.user,
            token=data["form_token"],
        ),
        _("Badge %(uid)s replaced; the old card no longer works.") % {"uid": badge.uid},
        "replace_form",
    )


@require_POST
@login_required
@staff_required
@permission_required("membership.record_payment", raise_exception=True)
def payment_record(request, pk: int):
    member = staff_object_or_404(request, Member, what="record a payment", pk=pk)
    return _run(
        request,
        member,
        ManualPaymentForm(request.POST),
        lambda data: services.payment_record_manual(
            member=member, actor=request.user, note=data["note"], token=data["form_token"]
        ),
        _("Payment recorded: the membership runs one more month."),
        "payment_form",
    )


@require_POST
@login_required
@staff_required
@permission_required("membership.record_payment", raise_exception=True)
def ledger_entry_reverse(request, pk: int):
    """Correct a mistaken entry with its reversing entry (the mistake stays in the ledger)."""
    entry = staff_object_or_404(
        request,
        LedgerEntry.objects.select_related("member"),
        what="reverse a ledger entry",
        pk=pk,
    )
    return _run(
        request,
        entry.member,
        LedgerReverseForm(request.POST),
        lambda data: ledger_reverse(
            entry=entry, actor=request.user, reason=data["reason"], token=data["form_token"]
        ),
        _("Entry %(entry)s reversed; both stay in the ledger.") % {"entry": entry.pk},
        "reverse_form",
    )


@require_POST
@login_required
@staff_required
@permission_required("membership.record_payment", raise_exception=True)
def refund_try_again(request, pk: int):
    """Try a failed card refund again (Stripe is back, or what it refused was fixed)."""
    refund = staff_object_or_404(
        request,
        StripeRefund.objects.select_related("payment__member"),
        what="retry a refund",
        pk=pk,
    )
    return _run(
        request,
        refund.payment.member,
        RefundRetryForm(request.POST),
        lambda data: refund_retry(refund=refund, actor=request.user, token=data["form_token"]),
        _("The refund is being sent to Stripe again."),
        "retry_form",
    )


@require_POST
@login_required
@staff_required
@permission_required("membership.record_payment", raise_exception=True)
def material_sell(request, pk: int):
    """Sell material to the member at the desk (cash, their credits, or their card on file)."""
    member = staff_object_or_404(request, Member, what="sell material", pk=pk)
    form = MaterialSaleForm(request.POST)
    return _run(
        request,
        member,
        form,
        lambda data: desk.material_sell(
            member=member,
            material=data["material"],
            quantity=data["quantity"],
            method=data["method"],
            actor=request.user,
            token=data["form_token"],
            discount=form.discount(data["material"].currency),
        ),
        desk.material_sale_told,
        "sale_form",
    )


@require_POST
@login_required
@staff_required
def membership_status(request, pk: int):
    member = staff_object_or_404(
        request, Member.objects.select_related("membership"), what="membership state", pk=pk
    )
    return _run(
        request,
        member,
        MembershipStatusForm(request.POST),
        lambda data: services.membership_set_status(
            membership=services.membership_for(member),
            status=data["status"],
            reason=data["reason"],
            cause=ChangeCause.STAFF,
            actor=request.user,
            token=data["form_token"],
        ),
        _("Membership state changed."),
        "status_form",
    )


@login_required
@staff_required
def card_scan(request, token: str):
    try:
        member = cards.member_from_card_token(token)
    except CardTokenInvalid as error:
        return render(request, "membership/staff/card_invalid.html", {"error": error}, status=400)
    require_at_location(user=request.user, obj=member, what="member card", path=request.path)
    return redirect("staff_member_detail", pk=member.pk)
