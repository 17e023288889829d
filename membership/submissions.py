"""Double-submitted forms: each rendered form carries a token that can be used once."""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction

from membership.errors import DuplicateSubmission
from membership.models import FormSubmission


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
