"""The one way a view runs a posted form through a service: validate, call, say how it went."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest

from core.errors import DomainError, DuplicateSubmission


@dataclass(frozen=True)
class Outcome:
    """How a form action went: true when it was done; `message` is what the person was told,
    `value` what the action returned (None unless it was done)."""

    done: bool
    message: str
    value: Any = None

    def __bool__(self) -> bool:
        return self.done


def form_problems(form: forms.Form) -> str:
    """Every field's errors in one sentence, each after its field's label.

    For a message at the top of the page: folded forms (a disable form under each badge, a
    gate's forms) show no errors of their own, so the message has to say what is wrong.
    """
    return " ".join(
        f"{form[name].label}: {' '.join(errors)}" if name in form.fields else " ".join(errors)
        for name, errors in form.errors.items()
    )


def form_action(
    request: HttpRequest,
    form: forms.Form,
    action: Callable[[dict], Any],
    *,
    success: str | Callable[[Any], str] = "",
    level: int = messages.SUCCESS,
    invalid: str = "",
    flash: bool = True,
) -> Outcome:
    """Validate `form`, call `action(form.cleaned_data)` and tell the person how it went.

    An invalid form is not acted on; the person reads `invalid`, or else each field's problems.
    A service's refusal (DomainError) is shown as is; a form sent twice (DuplicateSubmission) is
    said as information, since the first submit did the work. When done, `success` is said (a
    function of what the action returned when the sentence needs it; empty says nothing) at
    `level`. With `flash` the sentence goes to the messages framework; an htmx panel passes
    flash=False and shows `outcome.message` in place itself. The caller picks the response.
    """
    if not form.is_valid():
        return _told(request, flash, messages.ERROR, invalid or _correct(form))
    try:
        value = action(form.cleaned_data)
    except DuplicateSubmission as duplicate:
        return _told(request, flash, messages.INFO, duplicate.message)
    except DomainError as refused:
        return _told(request, flash, messages.ERROR, refused.message)
    text = success(value) if callable(success) else success
    if text and flash:
        messages.add_message(request, level, text)
    return Outcome(done=True, message=text, value=value)


def _correct(form: forms.Form) -> str:
    return f"Please correct the form: {form_problems(form)}"


def _told(request: HttpRequest, flash: bool, level: int, text: str) -> Outcome:
    if flash:
        messages.add_message(request, level, text)
    return Outcome(done=False, message=text)
