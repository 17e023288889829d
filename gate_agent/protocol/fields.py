"""Strict readers for untrusted JSON: every failure is one `ProtocolError`, never anything else."""

from __future__ import annotations

import json
import re
from typing import Any

# The largest message either side accepts. An allow-list of a few thousand entries fits easily;
# anything larger is refused before the JSON parser sees it.
MAX_PAYLOAD_BYTES = 256 * 1024
# Integer UNIX seconds must fall in a sane range: 2000-01-01 .. 2100-01-01.
MIN_TIMESTAMP = 946_684_800
MAX_TIMESTAMP = 4_102_444_800

NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
HASH_RE = re.compile(r"^[0-9a-f]{64}$")
SIG_RE = re.compile(r"^[0-9a-f]{64}$")


class ProtocolError(ValueError):
    """A payload is not a valid Toolgate gate message (malformed, wrong type, forged, ...)."""


def load_object(payload: bytes | bytearray | str) -> dict[str, Any]:
    """Decode a UTF-8 JSON object, refusing oversized, non-UTF-8 or non-object payloads."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8", errors="surrogatepass")
    if not isinstance(payload, bytes | bytearray):
        raise ProtocolError(f"payload must be bytes, not {type(payload).__name__}")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ProtocolError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        data = json.loads(bytes(payload).decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(f"payload is not UTF-8 JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("payload must be a JSON object")
    return data


def _reject_constant(name: str) -> Any:
    raise ProtocolError(f"{name} is not allowed in a message")


def check_keys(data: dict[str, Any], expected: set[str], where: str) -> None:
    """Every field must be present and nothing else: a signature covers exactly what was sent."""
    missing = expected - data.keys()
    extra = data.keys() - expected
    if missing:
        raise ProtocolError(f"{where}: missing field(s) {', '.join(sorted(missing))}")
    if extra:
        raise ProtocolError(f"{where}: unknown field(s) {', '.join(sorted(map(str, extra)))}")


def get_str(
    data: dict[str, Any], key: str, *, pattern: re.Pattern[str] | None = None, max_len: int = 200
) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise ProtocolError(f"{key}: expected a string")
    if len(value) > max_len:
        raise ProtocolError(f"{key}: longer than {max_len} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # JSON can smuggle lone surrogates (\ud800) that no UTF-8 encoder accepts.
        raise ProtocolError(f"{key}: not valid Unicode text") from None
    if pattern is not None and not pattern.match(value):
        raise ProtocolError(f"{key}: {value[:40]!r} has the wrong format")
    return value


def get_opt_str(data: dict[str, Any], key: str, *, max_len: int = 200) -> str | None:
    return None if data[key] is None else get_str(data, key, max_len=max_len)


def get_choice(data: dict[str, Any], key: str, choices: frozenset[str]) -> str:
    value = get_str(data, key, max_len=64)
    if value not in choices:
        raise ProtocolError(f"{key}: {value!r} is not one of {', '.join(sorted(choices))}")
    return value


def get_int(data: dict[str, Any], key: str, *, lo: int = 0, hi: int = 2**53) -> int:
    value = data[key]
    # bool is an int in Python; on the wire `true` is never a number.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError(f"{key}: expected an integer")
    if not lo <= value <= hi:
        raise ProtocolError(f"{key}: {value} is out of range")
    return value


def get_time(data: dict[str, Any], key: str) -> int:
    return get_int(data, key, lo=MIN_TIMESTAMP, hi=MAX_TIMESTAMP)


def get_opt_time(data: dict[str, Any], key: str) -> int | None:
    return None if data[key] is None else get_time(data, key)


def get_opt_int(data: dict[str, Any], key: str) -> int | None:
    return None if data[key] is None else get_int(data, key)


def get_bool(data: dict[str, Any], key: str) -> bool:
    value = data[key]
    if not isinstance(value, bool):
        raise ProtocolError(f"{key}: expected true or false")
    return value


def get_opt_bool(data: dict[str, Any], key: str) -> bool | None:
    return None if data[key] is None else get_bool(data, key)


def get_list(data: dict[str, Any], key: str, *, max_items: int) -> list[Any]:
    value = data[key]
    if not isinstance(value, list):
        raise ProtocolError(f"{key}: expected a list")
    if len(value) > max_items:
        raise ProtocolError(f"{key}: more than {max_items} items")
    return value


def get_str_list(
    data: dict[str, Any], key: str, *, max_items: int, pattern: re.Pattern[str], max_len: int
) -> tuple[str, ...]:
    items = get_list(data, key, max_items=max_items)
    return tuple(
        get_str({f"{key}[{i}]": item}, f"{key}[{i}]", pattern=pattern, max_len=max_len)
        for i, item in enumerate(items)
    )


def get_object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProtocolError(f"{where}: expected an object")
    return value
