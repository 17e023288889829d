"""The site speaks the language the browser asks for, or the one chosen in the switcher, which is
remembered in a cookie (docs/i18n.md)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_accept_language_korean_gets_korean(client):
    page = client.get(reverse("home"), headers={"accept-language": "ko-KR,ko;q=0.9,en;q=0.5"})
    text = page.content.decode()
    assert '<html lang="ko">' in text
    assert "본문으로 건너뛰기" in text
    assert ">장비</a>" in text


def test_a_browser_asking_for_neither_gets_english(client):
    text = client.get(reverse("home"), headers={"accept-language": "fr-FR"}).content.decode()
    assert '<html lang="en">' in text
    assert ">Machines</a>" in text


def test_the_switcher_is_a_plain_form_on_every_page(client):
    text = client.get(reverse("home")).content.decode()
    assert f'action="{reverse("set_language")}"' in text
    assert '<option value="ko" lang="ko">한국어</option>' in text


def test_the_choice_is_remembered_over_accept_language(client):
    chosen = client.post(reverse("set_language"), {"language": "ko", "next": "/machines/"})
    assert chosen.status_code == 302
    assert chosen["Location"] == "/machines/"
    cookie = chosen.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "ko"
    assert cookie["max-age"] == settings.LANGUAGE_COOKIE_AGE
    text = client.get(reverse("home"), headers={"accept-language": "en"}).content.decode()
    assert '<html lang="ko">' in text


def test_an_unknown_language_is_ignored(client):
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    text = client.get(reverse("home")).content.decode()
    assert '<html lang="en">' in text
