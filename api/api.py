"""The NinjaAPI instance of /api/v1/: its errors, the shared responses, the routers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError

from api import endpoints_member, endpoints_staff
from api.errors import ApiError, RateLimited
from bookings.errors import BookingRejected
from core.errors import DomainError
from training.errors import NotAllowed

api = NinjaAPI(
    title="Toolgate API",
    version="1",
    description=(
        "Members' bookings, machines, classes and machine time; staff's members, badges, access "
        "log and gates. Authenticate with `Authorization: Bearer <token>`; see docs/api.md."
    ),
    urls_namespace="api:v1",
    docs=Swagger(settings={"persistAuthorization": True}),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error_response(
    request: HttpRequest,
    *,
    status: int,
    code: str,
    message: str,
    fields: list[dict[str, Any]] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields is not None:
        body["fields"] = fields
    return api.create_response(request, {"error": body}, status=status)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    response = error_response(request, status=exc.status, code=exc.code, message=exc.message)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="toolgate"'
    return response


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    """A rule's refusal: the sentence the site shows, with the rule's code."""
    if isinstance(exc, BookingRejected):
        code = exc.refused.code
        status = 403 if code == "not_yours" else 409
    else:
        code = _snake(type(exc).__name__.removesuffix("Rejected").removesuffix("Error"))
        status = 403 if isinstance(exc, NotAllowed) else 409
    return error_response(request, status=status, code=code, message=exc.message)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields = []
    for error in exc.errors:
        loc: list[str | int] = []
        for part in error.get("loc", ()):
            if isinstance(part, str | int) and (not loc or loc[-1] != part):
                loc.append(part)
        fields.append({"loc": loc, "message": str(error.get("msg", "invalid"))})
    if any(error.get("type") == "json_invalid" for error in exc.errors):
        return error_response(
            request, status=400, code="malformed_json", message=_("The body is not valid JSON.")
        )
    return error_response(
        request,
        status=422,
        code="invalid",
        message=_("Some fields are missing or not valid; see `fields`."),
        fields=fields,
    )


@api.exception_handler(AuthenticationError)
def _not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = error_response(
        request,
        status=401,
        code="not_authenticated",
        message=_("Send a token: Authorization: Bearer <token>."),
    )
    response["WWW-Authenticate"] = 'Bearer realm="toolgate"'
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:  # the one HttpError ninja raises itself: a body it cannot parse
        return error_response(
            request, status=400, code="malformed_json", message=_("The body is not valid JSON.")
        )
    return error_response(
        request, status=exc.status_code, code=_snake(type(exc).__name__), message=exc.message
    )


@api.exception_handler(PermissionDenied)
def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    """A service's own refusal (staff acting outside their locations, `OutOfScope`): JSON like
    every other error here, not the site's HTML 403 page."""
    return error_response(
        request,
        status=403,
        code="forbidden",
        message=str(exc) or _("You may not do this."),
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(
        request, status=404, code="not_found", message=_("There is no such thing.")
    )


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(
        request, status=413, code="body_too_large", message=_("The body is too large.")
    )


api.add_router("", endpoints_member.router)
api.add_router("/staff", endpoints_staff.router)
