"""form_action: validate the form, call the service, tell the person how it went."""

from __future__ import annotations

import uuid

import pytest
from django import forms
from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory

from core.errors import DomainError, DuplicateSubmission
from core.forms import OnceForm
from core.views import form_action, form_problems


class ReasonForm(OnceForm):
    reason = forms.CharField(label="Reason")


@pytest.fixture
def request_():
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def told(request) -> list[tuple[int, str]]:
    return [(message.level, message.message) for message in messages.get_messages(request)]


def posted(**data) -> ReasonForm:
    return ReasonForm({"form_token": str(uuid.uuid4()), **data})


def test_a_valid_form_is_acted_on_and_the_success_said(request_):
    calls = []
    outcome = form_action(
        request_,
        posted(reason="Stolen"),
        lambda data: calls.append(data["reason"]),
        success="Done.",
    )
    assert outcome and outcome.message == "Done."
    assert calls == ["Stolen"]
    assert told(request_) == [(messages.SUCCESS, "Done.")]


def test_the_success_sentence_may_read_what_the_action_returned(request_):
    outcome = form_action(
        request_,
        posted(reason="x"),
        lambda data: 3,
        success=lambda held: f"Held {held} machines.",
        level=messages.WARNING,
    )
    assert outcome.value == 3
    assert told(request_) == [(messages.WARNING, "Held 3 machines.")]


def test_an_invalid_form_is_not_acted_on_and_says_each_fields_problem(request_):
    calls = []
    outcome = form_action(request_, posted(), calls.append, success="Done.")
    assert not outcome and calls == []
    assert told(request_) == [
        (messages.ERROR, "Please correct the form: Reason: This field is required.")
    ]


def test_an_invalid_form_may_say_one_fixed_sentence(request_):
    form_action(request_, posted(), lambda data: None, invalid="Choose the hours.")
    assert told(request_) == [(messages.ERROR, "Choose the hours.")]


def test_a_refusal_is_said_as_is(request_):
    def refuse(data):
        raise DomainError("Say why the gate is disabled.")

    outcome = form_action(request_, posted(reason="x"), refuse, success="Done.")
    assert not outcome and outcome.message == "Say why the gate is disabled."
    assert told(request_) == [(messages.ERROR, "Say why the gate is disabled.")]


def test_a_form_sent_twice_is_information_not_an_error(request_):
    def again(data):
        raise DuplicateSubmission()

    outcome = form_action(request_, posted(reason="x"), again, success="Done.")
    assert not outcome
    assert told(request_) == [(messages.INFO, DuplicateSubmission().message)]


def test_other_errors_are_not_swallowed(request_):
    def broken(data):
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError):
        form_action(request_, posted(reason="x"), broken)


def test_without_flash_nothing_is_flashed_and_the_caller_shows_the_message(request_):
    """How htmx panels use it: the sentence comes back in the outcome only."""
    refused = form_action(request_, posted(), lambda data: None, invalid="Choose.", flash=False)
    done = form_action(request_, posted(reason="x"), lambda data: None, success="Ok.", flash=False)
    assert (refused.message, done.message) == ("Choose.", "Ok.")
    assert told(request_) == []


def test_form_problems_names_each_field_and_keeps_form_wide_errors():
    form = posted()
    form.is_valid()
    form.add_error(None, "Nothing to change.")
    assert form_problems(form) == "Reason: This field is required. Nothing to change."
