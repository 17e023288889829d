"""Every string the code marks for translation is in its catalogue: a sentence marked but never
extracted (`make messages` not run) would reach Korean readers in English, and the catalogue test
cannot see it (it reads only what is in the catalogues). Extraction here is Django's own
(`templatize` turns a template into the gettext calls makemessages reads) with Babel's Python
extractor, so the test needs no GNU gettext."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_python
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)
# The calls makemessages extracts (its xgettext --keyword list), as Babel spells them.
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
# scripts/messages' domains: each app's folder, and the project's templates/ and config/.
APPS = sorted(path.parents[3].name for path in ROOT.glob("*/locale/ko/LC_MESSAGES/django.po"))


def _sources(domain: str) -> list[Path]:
    folders = [ROOT / "templates", ROOT / "config"] if domain == "project" else [ROOT / domain]
    return sorted(
        path
        for folder in folders
        for path in folder.rglob("*")
        if path.suffix in {".py", ".html", ".txt"} and "migrations" not in path.parts
    )


def _marked(path: Path) -> set[tuple[str | None, str]]:
    source = path.read_text()
    if path.suffix != ".py":
        # templatize writes each message as one repr'd literal, and keeps the template's
        # indentation, which the Python tokenizer would read as blocks: left-aligned is the same.
        source = "\n".join(
            line.lstrip() for line in templatize(source, origin=str(path)).splitlines()
        )
    found = set()
    for _line, function, message, _comments in extract_python(
        BytesIO(source.encode()), KEYWORDS.keys(), [], {}
    ):
        spec = KEYWORDS[function] or (1,)
        messages = message if isinstance(message, tuple) else (message,)
        context = None
        positions = [position for position in spec if not isinstance(position, tuple)]
        for position in spec:
            if isinstance(position, tuple):
                context = messages[position[0] - 1]
        msgid = messages[positions[0] - 1] if positions else None
        if isinstance(msgid, str) and msgid:
            found.add((context, msgid))
    return found


def _catalogue(domain: str):
    folder = ROOT / "locale" if domain == "project" else ROOT / domain / "locale"
    with open(folder / "ko" / "LC_MESSAGES" / "django.po", "rb") as file:
        return read_po(file)


@pytest.mark.parametrize("domain", ["project", *APPS])
def test_every_marked_string_is_in_its_catalogue(domain):
    catalogue = _catalogue(domain)
    missing = sorted(
        f"{path.relative_to(ROOT)}: {msgid!r}"
        for path in _sources(domain)
        for context, msgid in _marked(path)
        if catalogue.get(msgid, context=context) is None
    )
    assert missing == [], f"run `make messages APPS={domain}` and translate:\n" + "\n".join(missing)


def test_the_check_sees_a_string_the_catalogue_lacks(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        '{% translate "A sentence no catalogue has" %}{% translate "Save" %}'
        '{% translate "Change" context "a context no catalogue has" %}'
    )
    catalogue = _catalogue("project")
    lacking = {
        found for found in _marked(page) if catalogue.get(found[1], context=found[0]) is None
    }
    assert lacking == {
        (None, "A sentence no catalogue has"),
        ("a context no catalogue has", "Change"),
    }


@pytest.mark.parametrize("domain", ["project", *APPS])
def test_the_english_catalogue_says_the_english_itself(domain):
    """English is the source language: an entry whose English differs from its msgid is a guess
    msgmerge made from a similar string and nobody fixed (it shows the wrong sentence)."""
    folder = ROOT / "locale" if domain == "project" else ROOT / domain / "locale"
    with open(folder / "en" / "LC_MESSAGES" / "django.po", "rb") as file:
        wrong = [
            (message.id, message.string)
            for message in read_po(file)
            if message.id
            and (message.string if isinstance(message.id, str) else tuple(message.string))
            != message.id
        ]
    assert wrong == []
