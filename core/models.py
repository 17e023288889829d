"""The ground floor's tables: handled one-time form tokens."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class FormSubmission(models.Model):
    """One row per handled form token: a double-submitted form is recognised and changes nothing.

    Rows are only needed while a second submit of the same page is plausible; `form_tokens_prune`
    deletes old ones.
    """

    token = models.UUIDField(unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return str(self.token)
