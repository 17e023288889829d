"""Billing endpoints: start Checkout, open the Customer Portal, the pending fragment, the webhook."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from core.forms import OnceForm
from core.views import form_action
from membership import services
from membership.billing import receipts, selectors
from membership.billing.catalogue import CreditPack
from membership.billing.client import BillingUnavailable
from membership.billing.services import billing_checkout_start, billing_portal_url
from membership.billing.wallet import credit_pack_checkout
from membership.billing.webhooks import (
    WebhookRejected,
    webhook_event_handle,
    webhook_event_verify,
)
from membership.errors import MembershipError
from membership.models import Member

logger = logging.getLogger(__name__)


@require_POST
@login_required
def checkout(request):
    member = services.member_get_or_create(user=request.user)
    started = form_action(
        request,
        OnceForm(request.POST),
        lambda data: billing_checkout_start(member=member, token=data["form_token"]),
        invalid="Please try again from this page.",
    )
    return redirect(started.value if started else "membership_billing")


@require_GET
@login_required
def receipt(request, pk: int):
    """A printable receipt of one of the member's own payments."""
    member = Member.objects.filter(user=request.user).first()
    found = receipts.payment_receipt(member, pk) if member is not None else None
    if found is None:
        raise Http404("No such payment of yours.")
    return render(request, "membership/receipt.html", {"receipt": found})


@require_POST
@login_required
def credit_pack_buy(request, pk: int):
    """Buy a pack of prepaid credits through Checkout; the credits arrive with the webhook."""
    member = services.member_get_or_create(user=request.user)
    pack = get_object_or_404(CreditPack, pk=pk, active=True)
    bought = form_action(
        request,
        OnceForm(request.POST),
        lambda data: credit_pack_checkout(member=member, pack=pack),
        invalid="Please try again from this page.",
    )
    return redirect(bought.value if bought else "membership_billing")


@login_required
def portal(request):
    """Opens the Customer Portal. GET too, so the link in the payment-failed email works."""
    member = services.member_get_or_create(user=request.user)
    try:
        url = billing_portal_url(member=member)
    except MembershipError as error:
        messages.error(request, error.message)
        return redirect("membership_billing")
    return redirect(url)


@require_GET
@login_required
def status(request):
    """The billing state fragment the pending page polls until the webhook has confirmed."""
    member = services.member_get_or_create(user=request.user)
    try:
        since = datetime.fromtimestamp(int(request.GET.get("since", "")), tz=UTC)
    except (ValueError, OverflowError, OSError):
        since = None
    return render(
        request,
        "membership/billing_status.html",
        selectors.billing_overview(member, checkout_returned=True, waiting_since=since),
    )


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Stripe's event deliveries: 200 once stored (or already stored), 400 refused, 503 retry."""
    try:
        event = webhook_event_verify(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
        stored = webhook_event_handle(event)
    except WebhookRejected as error:
        logger.warning("Stripe webhook refused: %s", error)
        return HttpResponse(f"Refused: {error}", status=400, content_type="text/plain")
    except BillingUnavailable as error:
        logger.warning("Stripe webhook not applied, Stripe will retry: %s", error.message)
        return HttpResponse("Try again later", status=503, content_type="text/plain")
    return JsonResponse({"id": stored.event_id, "outcome": stored.outcome})
