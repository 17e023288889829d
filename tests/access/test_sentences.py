"""The reason of an access decision as a person reads it, in the active language."""

from __future__ import annotations

import pytest
from django.utils import translation

from access.policy import Reason
from access.sentences import reason_sentence


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "You are not certified on this machine. Take its safety class first."),
        ("ko", "이 장비에 대한 인증이 없습니다. 먼저 안전 교육을 받아 주세요."),
    ],
)
def test_a_reason_reads_in_the_active_language(language, sentence):
    """Korean active: the Korean sentence; English: the policy's own sentence, unchanged."""
    with translation.override(language):
        assert reason_sentence(Reason.NOT_CERTIFIED) == sentence


def test_every_reason_has_a_korean_sentence():
    """No reason code falls back to English on a Korean page."""
    with translation.override("ko"):
        untranslated = [reason for reason in Reason if reason_sentence(reason) == reason.sentence]
    assert untranslated == []


def test_the_policy_sentence_stays_english_whatever_the_language():
    """The wire and the log's reason code do not depend on who is looking."""
    with translation.override("ko"):
        assert Reason.NOT_CERTIFIED.sentence.startswith("You are not certified")


def test_the_gate_shows_the_sites_sentences_word_for_word():
    """The agent keeps its own copy of the site's refusal and alarm sentences (it imports
    nothing of the site) as the English source of its catalogue: the copies never drift."""
    from access.models import ALARM_SENTENCES, OFFLINE_REASON_SENTENCES
    from gate_agent import screen

    site = {reason.value: reason.sentence for reason in Reason if not reason.allowed}
    site |= {
        code: str(s) for code, s in OFFLINE_REASON_SENTENCES.items() if code != "offline_allowlist"
    }
    assert site == screen.DENIAL_SENTENCES
    assert {code: str(s) for code, s in ALARM_SENTENCES.items()} == screen.ALARM_SENTENCES
