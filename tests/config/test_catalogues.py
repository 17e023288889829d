"""Every translation catalogue in the repository is complete and compiled (docs/i18n.md): no entry
untranslated or fuzzy, placeholders kept, each language's catalogue beside the others with the same
entries, and each .mo holding exactly what its .po says (a .po edited but not compiled fails)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SKIPPED = {".venv", ".venv-load", "node_modules", ".git"}
LANGUAGES = [code for code, _ in settings.LANGUAGES]


def _catalogues() -> list[Path]:
    found = []
    for path in sorted(ROOT.glob("**/locale/*/LC_MESSAGES/django.po")):
        if not SKIPPED.intersection(path.relative_to(ROOT).parts):
            found.append(path)
    return found


CATALOGUES = _catalogues()


def _read(path: Path):
    with path.open("rb") as file:
        return read_po(file, locale=path.parent.parent.name)


def _key(message) -> tuple[str, str]:
    msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
    context = message.context or ""
    # Babel's .mo reader gives a context as bytes, its .po reader as text.
    return (context.decode() if isinstance(context, bytes) else context, msgid)


def _strings(message) -> tuple[str, ...]:
    string = message.string
    return tuple(string) if isinstance(string, tuple | list) else (string,)


def _translated(message) -> bool:
    return all(_strings(message))


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_project_and_the_apps_have_catalogues():
    """At least the project's own (locale/, for templates/ and config/) in every language."""
    for language in LANGUAGES:
        assert ROOT / "locale" / language / "LC_MESSAGES" / "django.po" in CATALOGUES


@pytest.mark.parametrize("path", CATALOGUES, ids=_name)
def test_every_entry_is_translated_and_none_is_fuzzy(path):
    catalogue = _read(path)
    assert not catalogue.fuzzy, f"{_name(path)}: the header is marked fuzzy"
    untranslated = [_key(m) for m in catalogue if m.id and not _translated(m)]
    fuzzy = [_key(m) for m in catalogue if m.id and m.fuzzy]
    assert not untranslated, f"{_name(path)}: untranslated {untranslated}"
    assert not fuzzy, f"{_name(path)}: fuzzy {fuzzy}"


@pytest.mark.parametrize("path", CATALOGUES, ids=_name)
def test_translations_keep_their_placeholders(path):
    """%(name)s and {name} placeholders survive translation (Babel's checks, as msgfmt --check)."""
    problems = [(_key(m), [str(e) for e in errors]) for m, errors in _read(path).check()]
    assert not problems, f"{_name(path)}: {problems}"


@pytest.mark.parametrize("path", CATALOGUES, ids=_name)
def test_the_compiled_catalogue_matches_its_source(path):
    compiled = path.with_suffix(".mo")
    assert compiled.exists(), f"{_name(path)} is not compiled: run scripts/messages"
    with compiled.open("rb") as file:
        in_mo = {_key(m): _strings(m) for m in read_mo(file) if m.id}
    in_po = {_key(m): _strings(m) for m in _read(path) if m.id and _translated(m) and not m.fuzzy}
    assert in_mo == in_po, f"{_name(path)} differs from its .mo: run scripts/messages"


@pytest.mark.parametrize("path", [p for p in CATALOGUES if p.parent.parent.name == "en"], ids=_name)
def test_every_language_has_the_same_entries(path):
    """A catalogue made for one language only would leave the other speaking English."""
    entries = {_key(m) for m in _read(path) if m.id}
    for language in LANGUAGES:
        sibling = path.parent.parent.parent / language / "LC_MESSAGES" / "django.po"
        assert sibling.exists(), f"{_name(sibling)} is missing"
        assert {_key(m) for m in _read(sibling) if m.id} == entries, f"{_name(sibling)} differs"
