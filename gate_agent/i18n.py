"""The language of the lines the operator reads at the gate, by the stdlib's gettext.

The catalogues ship inside the package (`gate_agent/locale/<language>/LC_MESSAGES/gate_agent.mo`,
built from the `.po` beside it by `msgfmt`); the agent's config names the language and start-up
refuses one without a catalogue. English is the source text and needs none.

After changing a line the gate shows, from `gate_agent/`:
    xgettext -L Python -k_ -kN_ --from-code=UTF-8 -o locale/gate_agent.pot i18n.py screen.py
    msgmerge -U locale/ko/LC_MESSAGES/gate_agent.po locale/gate_agent.pot   # then translate
    msgfmt --check -o locale/ko/LC_MESSAGES/gate_agent.mo locale/ko/LC_MESSAGES/gate_agent.po
"""

from __future__ import annotations

import gettext
from pathlib import Path

DOMAIN = "gate_agent"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
SOURCE_LANGUAGE = "en"
LANGUAGES = (SOURCE_LANGUAGE, "ko")


def N_(message: str) -> str:
    """Marks `message` for the catalogue where it is defined; it is translated where shown."""
    return message


def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of `language`; raises OSError when it is not installed with the package."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language])
