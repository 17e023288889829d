"""Pages to make and revoke credentials: a member's personal tokens, staff's integration keys.

A new secret is shown once, on the page that made it, and never again.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from api import selectors, services
from api.forms import KeyForm, RevokeForm, TokenForm
from api.models import CredentialKind
from core.forms import OnceForm
from core.views import form_action

keys_required = permission_required("api.manage_api_keys", raise_exception=True)


def _expiry(data: dict[str, Any]) -> datetime | None:
    day = data.get("expires_on")
    return None if day is None else timezone.make_aware(datetime.combine(day, time.min))


def _issue(request: HttpRequest, form: OnceForm, kind: str) -> str | None:
    def action(data: dict[str, Any]) -> services.Issued:
        return services.credential_issue(
            kind=kind,
            user=request.user,  # type: ignore[arg-type]
            name=data["name"],
            scopes=list(data["scopes"]),
            expires_at=_expiry(data),
            rate_limit_per_minute=data.get("rate_limit_per_minute"),
            token=data["form_token"],
        )

    outcome = form_action(request, form, action, flash=False)
    if not outcome:
        messages.error(request, outcome.message)
        return None
    return str(outcome.value.secret)


def _page(
    request: HttpRequest, *, form_class: type[TokenForm], kind: str, template: str, credentials: Any
) -> HttpResponse:
    """Make a credential from the posted form (its secret shown on this page only) and list them."""
    secret = None
    form = form_class(request.POST or None)
    if request.method == "POST":
        secret = _issue(request, form, kind)
        if secret:
            form = form_class()
    context = {
        "form": form,
        "secret": secret,
        "credentials": credentials,
        "revoke_form": RevokeForm(),
    }
    return render(request, template, context)


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """The member's personal access tokens: make one (shown once), see when each was used."""
    return _page(
        request,
        form_class=TokenForm,
        kind=CredentialKind.TOKEN,
        template="api/tokens.html",
        credentials=selectors.user_tokens(request.user),  # type: ignore[arg-type]
    )


@login_required
@keys_required
def keys(request: HttpRequest) -> HttpResponse:
    """Integration keys: staff make them with scopes and a rate limit, and revoke them."""
    return _page(
        request,
        form_class=KeyForm,
        kind=CredentialKind.KEY,
        template="api/keys.html",
        credentials=selectors.api_keys(),
    )


def _revoke(request: HttpRequest, credential: Any) -> None:
    def action(data: dict[str, Any]) -> object:
        return services.credential_revoke(
            credential=credential,
            actor=request.user,  # type: ignore[arg-type]
            token=data["form_token"],
        )

    form_action(request, RevokeForm(request.POST), action, success=f"Revoked {credential.name}.")


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    _revoke(request, get_object_or_404(selectors.user_tokens(request.user), pk=pk))  # type: ignore[arg-type]
    return redirect("api:tokens")


@login_required
@keys_required
@require_POST
def key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    _revoke(request, get_object_or_404(selectors.api_keys(), pk=pk))
    return redirect("api:keys")
