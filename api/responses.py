"""The responses every operation documents, and the helpers endpoints share (spans, writes)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from api import schemas, services
from api.errors import ApiError
from api.models import ApiCredential
from membership.models import User

# Every operation may answer these; documenting them keeps responses conformant to the schema.
READ_ERRORS: dict[int, type[schemas.Error] | None] = {
    304: None,  # If-None-Match named the current ETag (api.http)
    **{code: schemas.Error for code in (400, 401, 403, 404, 422, 429)},
}
WRITE_ERRORS: dict[int, type[schemas.Error]] = {
    code: schemas.Error for code in (400, 401, 403, 404, 409, 413, 422, 429)
}
MAX_SPAN = timedelta(days=92)


def credential(request: HttpRequest) -> ApiCredential:
    found = request.auth  # type: ignore[attr-defined]
    assert isinstance(found, ApiCredential)
    return found


def user(request: HttpRequest) -> User:
    return credential(request).user


def check_span(start: datetime | None, end: datetime | None, *, required: bool = False) -> None:
    if required and (start is None or end is None):
        raise ApiError(_("Give both start and end."), code="bad_span")
    if start is not None and end is not None:
        if end <= start:
            raise ApiError(_("end must be after start."), code="bad_span")
        if end - start > MAX_SPAN:
            raise ApiError(_("A span is at most 92 days."), code="bad_span")


@contextmanager
def recorded_write(request: HttpRequest, what: str, obj_type: str) -> Iterator[dict[str, object]]:
    """Run a write and its ApiWrite record in one transaction; set `["id"]` to the object's id."""
    holder: dict[str, object] = {}
    with transaction.atomic():
        yield holder
        services.api_write_record(
            credential=credential(request),
            what=what,
            obj_type=obj_type,
            obj_id=holder.get("id", ""),
            method=request.method or "",
            path=request.path,
        )
