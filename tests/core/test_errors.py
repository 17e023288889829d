"""Every app's refusal is a DomainError, so one `except DomainError` in a view covers them all."""

from __future__ import annotations

import pytest

from access.errors import AccessError
from bookings.errors import BookingRejected
from bookings.rules import Refusal, refuse
from core.errors import DomainError, DuplicateSubmission
from equipment.errors import EquipmentError
from membership.errors import MembershipError
from training.errors import TrainingError


@pytest.mark.parametrize(
    "error_class", [MembershipError, TrainingError, EquipmentError, BookingRejected, AccessError]
)
def test_each_apps_error_subclasses_domain_error_directly(error_class):
    """No app's error hangs below another app's: each one's base is DomainError itself."""
    assert error_class.__bases__ == (DomainError,)


def test_a_training_refusal_is_not_a_membership_refusal():
    """A view that catches MembershipError no longer swallows training's refusals by accident."""
    assert not issubclass(TrainingError, MembershipError)


def test_a_domain_error_carries_its_message_for_the_person():
    assert DomainError("Say why.").message == "Say why."
    assert str(EquipmentError("Say why.")) == "Say why."


def test_a_booking_refusal_carries_the_rules_sentence_and_reason():
    error = BookingRejected(refuse(Refusal.NOT_YOURS))
    assert error.reason is Refusal.NOT_YOURS
    assert error.message == refuse(Refusal.NOT_YOURS).message


def test_a_duplicate_submission_says_nothing_changed():
    assert isinstance(DuplicateSubmission(), DomainError)
    assert "nothing was changed" in DuplicateSubmission().message
