"""One-time form tokens: claimed once inside the action's transaction, pruned when old."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from core.errors import DuplicateSubmission
from core.models import FormSubmission
from core.submissions import FORM_TOKENS_KEPT, form_tokens_prune, submission_claim

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_a_token_is_claimed_once():
    token = uuid.uuid4()
    submission_claim(token)
    with pytest.raises(DuplicateSubmission):
        submission_claim(token)
    assert FormSubmission.objects.filter(token=token).count() == 1


def test_a_refused_action_releases_its_token():
    """The claim rolls back with the action, so the corrected form can be sent again."""
    token = uuid.uuid4()
    with pytest.raises(RuntimeError), transaction.atomic():
        submission_claim(token)
        raise RuntimeError("the service refused")
    submission_claim(token)
    assert FormSubmission.objects.filter(token=token).exists()


def test_no_token_claims_nothing():
    submission_claim(None)
    assert not FormSubmission.objects.exists()


def test_prune_forgets_tokens_older_than_asked_and_keeps_the_rest():
    old, recent = uuid.uuid4(), uuid.uuid4()
    with time_machine.travel(START, tick=False):
        submission_claim(old)
    with time_machine.travel(START + timedelta(days=2), tick=False):
        submission_claim(recent)
    with time_machine.travel(START + timedelta(days=3), tick=False):
        assert form_tokens_prune(older_than=timedelta(days=2)) == 1
    assert list(FormSubmission.objects.values_list("token", flat=True)) == [recent]


def test_a_token_exactly_at_the_cutoff_is_kept():
    token = uuid.uuid4()
    with time_machine.travel(START, tick=False):
        submission_claim(token)
    with time_machine.travel(START + FORM_TOKENS_KEPT, tick=False):
        assert form_tokens_prune() == 0
    with time_machine.travel(START + FORM_TOKENS_KEPT + timedelta(seconds=1), tick=False):
        assert form_tokens_prune() == 1


def test_a_pruned_token_can_be_claimed_again():
    """What pruning costs: a form sent again after its token was forgotten is handled as new."""
    token = uuid.uuid4()
    with time_machine.travel(START, tick=False):
        submission_claim(token)
    with time_machine.travel(START + FORM_TOKENS_KEPT * 2, tick=False):
        form_tokens_prune()
        submission_claim(token)
