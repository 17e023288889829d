"""django-allauth hooks: every new account, single sign-on's too, gets its member profile;
account emails go through the task runner."""

import re

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.html import format_html

from core.tasks import email_send_on_commit
from membership.services import member_get_or_create


def lockout_minutes() -> int:
    """How long failed log-ins lock an email out: the per-key part of ACCOUNT_RATE_LIMITS'
    login_failed ("5/5m/key" is five minutes; the longest such window counts)."""
    rule = getattr(settings, "ACCOUNT_RATE_LIMITS", {}).get("login_failed", "") or ""
    seconds = 0
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    for part in rule.split(","):
        match = re.fullmatch(r"\s*\d+/(\d*)([smhd])(/key)?\s*", part)
        if match and match[3]:
            seconds = max(seconds, int(match[1] or 1) * units[match[2]])
    return max(1, (seconds + 59) // 60) if seconds else 5


class AccountAdapter(DefaultAccountAdapter):
    def __init__(self, request=None):
        super().__init__(request)
        minutes = lockout_minutes()
        wait = format_html(
            "Too many failed log-ins with this email: try again in {} minute{}",
            minutes,
            "" if minutes == 1 else "s",
        )
        try:  # no password reset when single sign-on is the only way in
            reset = format_html(
                ', or <a href="{}">reset your password</a>.', reverse("account_reset_password")
            )
        except NoReverseMatch:
            reset = "."
        self.error_messages = {**self.error_messages, "too_many_login_attempts": wait + reset}

    def is_open_for_signup(self, request) -> bool:
        """Sign-up with a password is off when single sign-on is the only way in (SSO_ONLY)."""
        return not settings.SOCIALACCOUNT_ONLY

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            member_get_or_create(user=user)
        return user

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Verification, password reset and account notices: rendered here, where the request
        and its links are (the same context allauth gives them), and sent by the task runner
        after commit, retried while the mail server refuses."""
        request = allauth_context.request
        message = self.render_mail(
            template_prefix,
            email,
            {"request": request, "email": email, "current_site": get_current_site(request)}
            | context,
        )
        email_send_on_commit(message)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Single sign-on (docs/sso.md): an account made at a first sign-in gets its member profile
    too, and sign-up through the provider stays open when password sign-up is off."""

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return True

    def save_user(self, request, sociallogin, form=None):
        # The language of the first sign-in is the one their emails are written in.
        sociallogin.user.language = translation.get_language()
        user = super().save_user(request, sociallogin, form=form)
        member_get_or_create(user=user)
        return user
