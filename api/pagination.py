"""Cursor (keyset) pagination: a page of rows after an opaque cursor, stable while rows are added.

The cursor is the last row's sort value and id, base64-encoded JSON; it is not a secret (it only
says where a page ends, and every query is still filtered to what the caller may see).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from api.errors import ApiError

M = TypeVar("M", bound=Model)

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def _encode(value: Any, pk: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([value, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, *, is_datetime: bool) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, pk = json.loads(raw)
        if not isinstance(pk, int) or isinstance(pk, bool):
            raise ValueError
        if is_datetime:
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError
        elif not isinstance(value, int) or isinstance(value, bool):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiError(_("The cursor is not one this API gave out."), code="bad_cursor") from None
    return value, pk


def paginate(
    rows: QuerySet[M], *, key: str, descending: bool, cursor: str | None, limit: int | None
) -> tuple[list[M], str | None]:
    """The page after `cursor` of `rows` ordered by (`key`, id), and the next page's cursor."""
    size = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= size <= MAX_LIMIT:
        raise ApiError(_("limit is 1 to %(most)s.") % {"most": MAX_LIMIT}, code="bad_limit")
    by_pk = key == "pk"
    if cursor:
        is_datetime = not by_pk
        value, pk = _decode(cursor, is_datetime=is_datetime)
        op = "lt" if descending else "gt"
        after = (
            Q(**{f"pk__{op}": pk})
            if by_pk
            else (Q(**{f"{key}__{op}": value}) | Q(**{key: value, f"pk__{op}": pk}))
        )
        rows = rows.filter(after)
    order = ["pk"] if by_pk else [key, "pk"]
    rows = rows.order_by(*(f"-{field}" if descending else field for field in order))
    page = list(rows[: size + 1])
    if len(page) <= size:
        return page, None
    page = page[:size]
    last = page[-1]
    return page, _encode(last.pk if by_pk else getattr(last, key), last.pk)
