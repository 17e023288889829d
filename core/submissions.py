"""Double-submitted forms: each rendered form carries a token (core.forms.OnceForm) used once."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction

from core import clock
from core.errors import DuplicateSubmission
from core.models import FormSubmission

# How long a handled token is remembered: far longer than anyone leaves a page open and submits
# it again (a double click, a reload, Back then Submit), short enough that the table stays small.
FORM_TOKENS_KEPT = timedelta(days=7)


def submission_claim(token: uuid.UUID | None) -> None:
    """Claim a form token inside the caller's transaction; a second claim raises.

    Called first inside the service's atomic block, so a refused action also releases the token
    (the rollback removes the row) and the person can correct the form and send it again.
    """
    if token is None:
        return
    try:
        with transaction.atomic():
            FormSubmission.objects.create(token=token)
    except IntegrityError:
        raise DuplicateSubmission() from None


def form_tokens_prune(*, older_than: timedelta = FORM_TOKENS_KEPT) -> int:
    """Forget tokens handled more than `older_than` ago; returns how many rows were deleted.

    A periodic job calls this. A form submitted again after its token was pruned is handled as
    new, which is why the default keeps tokens for a week.
    """
    deleted, _ = FormSubmission.objects.filter(created_at__lt=clock.now() - older_than).delete()
    return deleted
