"""The base of every action form: a one-time token against double submits (core.submissions)."""

from __future__ import annotations

import uuid

from django import forms


class OnceForm(forms.Form):
    """A form whose token can be used once: a second submit of the same page changes nothing."""

    # No id: no label points at the hidden token, and one page renders many token fields (a
    # disable form per badge, a revoke form per certification) that would all share one id.
    form_token = forms.UUIDField(widget=forms.HiddenInput(attrs={"id": False}), initial=uuid.uuid4)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A fresh token per rendering, not one shared by every form since start-up.
        self.fields["form_token"].initial = uuid.uuid4()
