"""django-allauth hooks: every new account, single sign-on's too, gets its member profile;
account emails go through the task runner."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site

from core.tasks import email_send_on_commit
from membership.services import member_get_or_create


class AccountAdapter(DefaultAccountAdapter):
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
        user = super().save_user(request, sociallogin, form=form)
        member_get_or_create(user=user)
        return user
