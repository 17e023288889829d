"""`is_chain` in every template: pages name locations and offer a switcher only in a chain."""

from __future__ import annotations

from django.http import HttpRequest

from locations.selectors import is_chain


def chain(request: HttpRequest) -> dict[str, object]:
    return {"is_chain": is_chain}  # a callable: the query runs only where a template asks
