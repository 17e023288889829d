"""django-allauth hooks: every new account gets its member profile; account emails go through
the task runner."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site

from core.tasks import email_send_on_commit
from membership.services import member_get_or_create


class AccountAdapter(DefaultAccountAdapter):
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
