"""The language a person reads: their emails, and the site on a device where they chose none.

A person's own language is `User.language` (empty: the space's `LANGUAGE_CODE`). Emails are sent
from tasks, which run in no request's language, so each is composed with its recipients' language
active (docs/i18n.md). Core knows people only by their `language` and `email` attributes: the
user model lives above it, in membership.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation


class Reader(Protocol):
    email: str
    language: str


def language_of(person: object) -> str:
    """The language to write to this person in."""
    return getattr(person, "language", "") or settings.LANGUAGE_CODE


def mail_people(
    people: Iterable[Reader],
    compose: Callable[[], tuple[str, str]],
    *,
    from_email: str | None = None,
) -> int:
    """Send one email per language among `people` (those without an address are skipped):
    `compose` returns the subject and body, and is called with that language active. Returns how
    many people it was sent to. When the mail server refuses one language's message, the task
    retries them all: a reader of an earlier language may get it twice, never none."""
    addresses: dict[str, set[str]] = defaultdict(set)
    for person in people:
        if person.email:
            addresses[language_of(person)].add(person.email)
    for language, emails in sorted(addresses.items()):
        with translation.override(language):
            subject, body = compose()
        send_mail(subject, body, from_email, sorted(emails))
    return sum(len(emails) for emails in addresses.values())


class UserLanguageMiddleware:
    """After authentication: a signed-in person's own language where this device has no choice
    of its own yet (no switcher cookie), so a member who reads Korean sees Korean on a new phone
    before touching the switcher. The cookie, once set, wins: it is the choice made here."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = getattr(request.user, "language", "")
        if language and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
