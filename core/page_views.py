"""Page furniture: error pages in the site's layout, rendered with the request (menus, the
space's name; 500 stays Django's own, rendered without context so nothing there can fail
again), and /favicon.ico for browsers that ask for it whatever the page says."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static


def _page(
    request: HttpRequest, template: str, status: int, exception: Exception | None
) -> HttpResponse:
    # Only a domain-worded message is shown (BadRequest raised with a sentence for people).
    message = str(exception) if exception is not None and status == 400 else ""
    return render(request, template, {"message": message}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, "400.html", 400, exception)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, "403.html", 403, exception)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, "404.html", 404, exception)


def favicon(request: HttpRequest) -> HttpResponse:
    # Resolved per request: the static files manifest names the file only after collectstatic.
    return HttpResponsePermanentRedirect(static("favicon.svg"))
