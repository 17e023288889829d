"""Every sentence a template shows is marked for translation (docs/i18n.md): text between tags,
and the attributes people read (title, placeholder, aria-label, alt, data-confirm), outside
`{% translate %}` and `{% blocktranslate %}`. A page left in English for Korean readers fails here
with its file and words, before a reader finds it."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType

ROOT = Path(settings.BASE_DIR)
# Pages only staff of the Django admin see, and the raw API docs page, are the libraries' own.
NOT_OURS = ("admin/", "ninja/")
WORDS = re.compile(r"[A-Za-z]{2,}(?:[^A-Za-z]+[A-Za-z]{2,})*")
# Words that are the same in every language: names, units, codes.
SAME_EVERYWHERE = {"Toolgate", "UID", "CSV", "iCal", "API", "OpenAPI", "URL", "HTTPS", "QR", "ID"}
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "data-confirm"}
HOLE = "\x00"  # where a variable or a tag stood
CODE = {"script", "style", "code"}


def _templates() -> list[Path]:
    folders = [ROOT / "templates", *ROOT.glob("*/templates")]
    return sorted(
        path
        for folder in folders
        if ".venv" not in folder.parts
        for path in folder.rglob("*")
        if path.suffix in {".html", ".txt"}
        and not any(part in str(path.relative_to(folder)) for part in NOT_OURS)
    )


def _outside_translation(source: str) -> str:
    """The template with every variable, tag and translated block replaced by a hole. A
    `{% block …_class %}` holds CSS class names (`main_class`), not words."""
    out, depth, blocks = [], 0, []
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name, *args = token.contents.split() or [""]
            depth += name in {"blocktranslate", "blocktrans", "comment"}
            depth -= name in {"endblocktranslate", "endblocktrans", "endcomment"}
            if name == "block":
                classes = bool(args) and args[0].endswith("_class")
                blocks.append(classes)
                depth += classes
            elif name == "endblock" and blocks:
                depth -= blocks.pop()
            out.append(HOLE)
        elif token.token_type == TokenType.TEXT and not depth:
            out.append(token.contents)
        elif token.token_type == TokenType.VAR:
            out.append(HOLE)
    return "".join(out)


def _english(text: str) -> list[str]:
    found = []
    for part in text.split(HOLE):
        for match in WORDS.finditer(part):
            words = match.group(0)
            if set(re.findall(r"[A-Za-z]+", words)) - SAME_EVERYWHERE:
                found.append(words.strip())
    return found


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.unmarked: list[str] = []
        self._code = 0  # inside <script>, <style> or <code> (commands, not sentences)

    def handle_starttag(self, tag, attrs) -> None:
        self._code += tag in CODE
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value:
                self.unmarked += _english(value)

    def handle_endtag(self, tag) -> None:
        self._code -= tag in CODE

    def handle_data(self, data) -> None:
        if not self._code:
            self.unmarked += _english(data)


def unmarked_in(path: Path) -> list[str]:
    text = _outside_translation(path.read_text())
    if path.suffix == ".txt":  # an email: every word is read
        return _english(text)
    reader = _Reader()
    reader.feed(text)
    return reader.unmarked


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_sentence_of_the_template_is_marked(path):
    assert unmarked_in(path) == []


def test_the_scan_finds_an_unmarked_sentence(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        '<p title="Book it">{% translate "Free" %} Booked by {{ name }}</p>'
        "{% blocktranslate %}Held until {{ end }}{% endblocktranslate %}"
        "<script>const a = 'no';</script>{# a comment #}<b>{{ x }}</b> UID"
        "{% block main_class %}wide-page{% endblock %}{% block content %}Read me{% endblock %}"
        "<pre><code>systemctl reload mosquitto</code></pre>"
    )
    assert unmarked_in(page) == ["Book it", "Booked by", "Read me"]
