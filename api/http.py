"""What wraps every /api/v1/ view: a body size limit, ETags on reads, no shared caching.

A GET answer gets a strong ETag over its body; a request whose If-None-Match names it gets a
304 with no body (Django's conditional-GET machinery). Answers depend on the token, so they are
`Cache-Control: private` and `Vary: Authorization`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.http import ConditionalGetMiddleware
from django.urls import URLPattern, URLResolver
from django.utils.cache import patch_cache_control, patch_vary_headers

View = Callable[..., HttpResponse]


def _max_body() -> int:
    return int(getattr(settings, "API_MAX_BODY_BYTES", 64 * 1024))


def _error(status: int, code: str, message: str) -> HttpResponse:
    body = {"error": {"code": code, "message": message}}
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def unknown(request: HttpRequest) -> HttpResponse:
    """A path under /api/v1/ that names no operation."""
    return _error(404, "not_found", "No API operation has this path; see /api/v1/docs.")


def _wrap(view: View) -> View:
    conditional = ConditionalGetMiddleware(lambda request: HttpResponse())

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > _max_body():
            return _error(413, "body_too_large", f"The body is over {_max_body()} bytes.")
        response = view(request, *args, **kwargs)
        patch_vary_headers(response, ["Authorization"])
        patch_cache_control(response, private=True)
        remaining = getattr(request, "api_rate_remaining", None)
        if remaining is not None:
            response["X-RateLimit-Limit"] = str(request.api_rate_limit)  # type: ignore[attr-defined]
            response["X-RateLimit-Remaining"] = str(max(0, remaining))
        if 200 <= response.status_code < 300:
            response = conditional.process_response(request, response)
        return response

    for attribute in ("csrf_exempt", "__name__", "__doc__"):
        if hasattr(view, attribute):
            setattr(wrapped, attribute, getattr(view, attribute))
    return wrapped


def _wrap_all(patterns: list[URLPattern | URLResolver]) -> None:
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = _wrap(pattern.callback)
        else:
            _wrap_all(pattern.url_patterns)


def conditional(
    urls: tuple[list[URLPattern | URLResolver], str, str],
) -> tuple[list[URLPattern | URLResolver], str, str]:
    """`api.urls` with every view wrapped."""
    _wrap_all(urls[0])
    return urls
