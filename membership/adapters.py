"""django-allauth hooks: every new account gets its member profile."""

from allauth.account.adapter import DefaultAccountAdapter

from membership.services import member_get_or_create


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            member_get_or_create(user=user)
        return user
