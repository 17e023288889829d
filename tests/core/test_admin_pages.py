"""Every page of every registered ModelAdmin answers a superuser without a server error."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from html.parser import HTMLParser

import factory
import pytest
from django.contrib import admin
from django.db import models
from django.urls import reverse

import tests.factories
from tests.factories.membership import UserFactory


def _factories() -> dict[str, type[factory.django.DjangoModelFactory]]:
    """Each model's own factory in tests/factories (named after it), by model label."""
    found = {}
    for module_info in pkgutil.iter_modules(tests.factories.__path__):
        module = importlib.import_module(f"tests.factories.{module_info.name}")
        for name, candidate in inspect.getmembers(module, inspect.isclass):
            if not issubclass(candidate, factory.django.DjangoModelFactory):
                continue
            model = candidate._meta.model
            if model is None:
                continue  # factory_boy's own base class
            label = model if isinstance(model, str) else model._meta.label
            if name == f"{label.split('.')[1]}Factory":
                found[label] = candidate
    return found


FACTORIES = _factories()
REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


class _FormData(HTMLParser):
    """What a browser submits from the admin's change form as the page shows it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.data: list[tuple[str, str]] = []
        self._in_form = False
        self._select: tuple[str, bool] | None = None  # name, multiple
        self._options: list[tuple[str, bool]] = []  # value, selected
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            # The change form; the page's other forms (log out) are not submitted.
            self._in_form = str(attributes.get("id", "")).endswith("_form")
        if not self._in_form or "disabled" in attributes:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in attributes:
                    self.data.append((name, attributes.get("value") or "on"))
            elif kind not in {"submit", "button", "image", "reset", "file"}:
                self.data.append((name, attributes.get("value") or ""))
        elif tag == "select" and name:
            self._select = (name, "multiple" in attributes)
            self._options = []
        elif tag == "option" and self._select is not None:
            self._options.append((attributes.get("value") or "", "selected" in attributes))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data):
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select" and self._select is not None:
            name, multiple = self._select
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not multiple and self._options:
                chosen = [self._options[0][0]]  # a browser submits the first option
            self.data.extend((name, value) for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # A browser drops the newline that starts a textarea's content.
            text = self._text[1:] if self._text.startswith("\n") else self._text
            self.data.append((self._textarea, text))
            self._textarea = None


def _form_data(html: str) -> dict[str, list[str]]:
    parser = _FormData()
    parser.feed(html)
    data: dict[str, list[str]] = {}
    for name, value in parser.data:
        data.setdefault(name, []).append(value)
    return data


@pytest.fixture
def superuser_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _url(model: type[models.Model], page: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


@pytest.mark.parametrize(
    ("model", "model_admin"),
    REGISTERED,
    ids=[model._meta.label for model, _ in REGISTERED],
)
def test_every_admin_page_answers_without_a_server_error(superuser_client, model, model_admin):
    """Changelist, add page (shown, and posted empty) where adding is allowed, and the change page
    of a factory-made object (shown, and posted back as shown): none answers with a 500."""
    label = model._meta.label
    assert label in FACTORIES, f"no {model.__name__}Factory for {label} in tests/factories"
    obj = FACTORIES[label]()

    response = superuser_client.get(_url(model, "changelist"))
    assert response.status_code == 200, label
    request = response.wsgi_request
    if model_admin.has_add_permission(request):
        add = _url(model, "add")
        assert superuser_client.get(add).status_code == 200, label
        assert superuser_client.post(add, {}).status_code < 500, label

    change = _url(model, "change", obj.pk)
    page = superuser_client.get(change)
    assert page.status_code == 200, label
    answer = superuser_client.post(change, _form_data(page.content.decode()))
    assert answer.status_code < 500, label
    if model_admin.has_change_permission(request, obj):
        # The page's own data is valid: saving it unchanged succeeds.
        assert answer.status_code == 302, (label, _errors(answer))
    else:
        assert answer.status_code == 403, label


def _errors(response) -> object:
    context = response.context
    if context is None or "adminform" not in context:
        return response.status_code
    formsets = context.get("inline_admin_formsets", [])
    return context["adminform"].form.errors, [f.formset.errors for f in formsets]
