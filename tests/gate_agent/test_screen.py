"""The lines the operator reads, in the gate's language: English as the site and agent say it,
Korean from the catalogue shipped in the package."""

from __future__ import annotations

import gettext
from datetime import UTC, datetime
from importlib import resources

import pytest

from gate_agent.hardware.simulated import RecordingDisplay
from gate_agent.i18n import DOMAIN, LANGUAGES, translations
from gate_agent.screen import ALARM_SENTENCES, DENIAL_SENTENCES, END_SENTENCES, Screen

EIGHT = datetime(2030, 1, 8, 8, 0, tzinfo=UTC).timestamp()  # 08:00 UTC
HALF_PAST = int(EIGHT) + 30 * 60


def _screen(language: str) -> tuple[Screen, RecordingDisplay]:
    display = RecordingDisplay()
    return Screen(display, UTC, translations(language)), display


@pytest.mark.parametrize(
    ("show", "english", "korean"),
    [
        (
            lambda s: s.on_until("Ada", HALF_PAST, offline=False),
            "Ada: on until 08:30",
            "Ada 님: 08:30까지 켜짐",
        ),
        (
            lambda s: s.on_until(None, HALF_PAST, offline=True),
            "On until 08:30 (offline)",
            "08:30까지 켜짐 (오프라인)",
        ),
        (lambda s: s.extended(HALF_PAST), "Extended: on until 08:30", "연장됨: 08:30까지 켜짐"),
        (
            lambda s: s.ends_soon(HALF_PAST, EIGHT + 25 * 60),
            "Switching off at 08:30 (in 5 min)",
            "08:30에 꺼집니다 (5분 후)",
        ),
        (
            lambda s: s.idle(HALF_PAST),
            "Idle: switching off at 08:30 unless the machine is used",
            "미사용: 장비를 쓰지 않으면 08:30에 꺼집니다",
        ),
        (lambda s: s.in_use(HALF_PAST), "In use: on until 08:30", "사용 중: 08:30까지 켜짐"),
        (lambda s: s.off("grant_expired"), "Off: time is up", "꺼짐: 시간이 다 되었습니다"),
        (
            lambda s: s.denied("not_certified", "Site says: take the class"),
            "Denied: Site says: take the class",
            "거부: 이 장비에 대한 인증이 없습니다. 먼저 안전 교육을 받아 주세요.",
        ),
        (
            lambda s: s.denied("offline_no_allowlist"),
            "Denied: offline no allowlist",
            "거부: 오프라인 거부: 게이트에 허용 목록이 없었습니다.",
        ),
        (
            lambda s: s.alarm("relay_not_on", "The relay was switched on but reads off."),
            "ALARM: The relay was switched on but reads off.",
            "경보: 게이트가 켜라고 했을 때 릴레이가 켜지지 않았습니다.",
        ),
    ],
)
def test_each_line_in_english_and_korean(show, english, korean):
    """English stays exactly as it was (the site's sentence as it came); Korean is a whole
    sentence of its own, with the time or name where Korean puts it."""
    for language, line in (("en", english), ("ko", korean)):
        screen, display = _screen(language)
        show(screen)
        assert display.lines == [line]


def test_a_code_the_catalogue_does_not_know_shows_the_site_sentence():
    """A reason newer than the gate's catalogue is still explained, in the site's words."""
    screen, display = _screen("ko")
    screen.denied("some_new_reason", "A sentence from a newer site.")
    assert display.lines == ["거부: A sentence from a newer site."]


def test_every_line_the_gate_can_show_has_a_korean_sentence():
    catalogue = translations("ko")
    for sentence in [
        *END_SENTENCES.values(),
        *DENIAL_SENTENCES.values(),
        *ALARM_SENTENCES.values(),
    ]:
        assert catalogue.gettext(sentence) != sentence, sentence


def test_the_catalogues_ship_inside_the_package():
    """Installed without the source tree, the agent finds its .mo next to its code."""
    for language in LANGUAGES[1:]:
        mo = resources.files("gate_agent") / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
        assert mo.is_file()
        with mo.open("rb") as fh:
            assert gettext.GNUTranslations(fh).gettext("time is up") != "time is up"
