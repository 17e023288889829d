"""Member-facing pages: dashboard, waiver, member card, billing overview."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from core.errors import DomainError
from core.forms import OnceForm
from membership import cards, readiness, selectors, services
from membership.billing import selectors as billing_selectors
from membership.billing.catalogue import CreditPack
from membership.billing.sections import billing_sections
from membership.forms import PROFILE_FIELDS, ProfileForm, WaiverSignForm
from membership.models import Member


@require_POST
def language_set(request):
    """The footer's switcher (Django's set_language: a cookie, then back to the page); a person
    signed in keeps the choice as their own, for their emails and their other devices."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        services.user_language_set(user=request.user, language=language)
    return response


def _member(request) -> Member:
    return services.member_get_or_create(user=request.user)


def home(request):
    """The shop window for visitors: address, hours, price and steps, machines, classes."""
    if request.user.is_authenticated:
        return redirect("dashboard")
    from django.apps import apps

    # Machines live in an app above membership: read through the app registry (the classes
    # come from training's template tag).
    machines = apps.get_model("equipment", "Machine").objects.exclude(state="retired")
    return render(
        request,
        "membership/home.html",
        {
            "machines": machines.select_related("required_certification").order_by("name"),
        },
    )


@login_required
def dashboard(request):
    member = _member(request)
    return render(
        request,
        "membership/dashboard.html",
        {
            "member": member,
            "membership": getattr(member, "membership", None),
            "readiness": readiness.member_readiness(member),
        },
    )


@login_required
def profile(request):
    """The member's own details; password and email addresses are allauth's pages, linked."""
    member = _member(request)
    initial = {
        "first_name": member.user.first_name,
        "last_name": member.user.last_name,
        "phone": member.phone,
        "emergency_contact": member.emergency_contact,
        "language": member.user.language or get_language(),
    }
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.member_profile_update(
                member=member,
                token=data["form_token"],
                language=data["language"],
                **{name: data[name] for name in PROFILE_FIELDS},
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            # The page answers in the language just chosen, as the switcher's would.
            translation.activate(data["language"])
            messages.success(request, _("Saved your details."))
            response = redirect("profile")
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                data["language"],
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
            return response
        return redirect("profile")
    return render(request, "membership/profile.html", {"form": form, "member": member})


@login_required
def waiver_sign(request):
    member = _member(request)
    waiver = selectors.waiver_current()
    signed = selectors.member_signed_current_waiver(member)
    form = WaiverSignForm(request.POST or None)
    if request.method == "POST" and waiver is not None and form.is_valid():
        try:
            services.waiver_sign(
                member=member,
                waiver=waiver,
                signed_name=form.cleaned_data["signed_name"],
                token=form.cleaned_data["form_token"],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Thank you: you signed %(waiver)s.") % {"waiver": waiver})
        return redirect("dashboard")
    return render(
        request, "membership/waiver.html", {"waiver": waiver, "signed": signed, "form": form}
    )


@login_required
def member_card(request):
    member = _member(request)
    token = cards.member_card_token(member)
    scan_url = request.build_absolute_uri(reverse("staff_card_scan", args=[token]))
    return render(
        request,
        "membership/card.html",
        {
            "member": member,
            "qr_svg": cards.qr_svg(scan_url),
            "badge": selectors.member_enabled_badge(member),
            "membership": getattr(member, "membership", None),
        },
    )


@login_required
def billing(request):
    member = _member(request)
    checkout = request.GET.get("checkout", "")
    if request.GET.get("credits") == "success":
        messages.success(request, _("Paid: your credits appear here as soon as Stripe confirms."))
    if checkout == "canceled":
        messages.info(request, _("Checkout was cancelled; nothing was charged."))
    context = billing_selectors.billing_overview(member, checkout_returned=checkout == "success")
    context.update(
        payments=member.payments.all()[:24],
        join_form=OnceForm(),
        ledger=billing_selectors.member_ledger(member)[:100],
        refunds_open=billing_selectors.member_refunds_open(member),
        balances=billing_selectors.member_balances(member),
        credit_packs=CreditPack.objects.filter(active=True),
        billing_sections=billing_sections(member),
    )
    return render(request, "membership/billing.html", context)
