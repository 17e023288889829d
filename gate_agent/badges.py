"""Badge UIDs in one canonical form, so the same card read by different readers matches.

Readers print the same card differently: `04:a3:2b:1c`, `04 A3 2B 1C`, `0x04A32B1C`, or, for
keyboard-wedge readers, the 4-byte UID as a 10-digit zero-padded decimal (`0077802268`). The
canonical form is upper-case hex without separators. The site and the agent share this module so an
offline allow-list (which carries hashes of canonical UIDs) matches what the reader saw.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_SEPARATORS = re.compile(r"[\s:\-_.]")
_HEX = re.compile(r"^[0-9A-F]+$")
# ISO 14443 UIDs are 4, 7 or 10 bytes; EM4100 tags are 5 bytes.
VALID_UID_BYTES = (4, 5, 7, 10)
# Keyboard-wedge readers print a 4-byte UID as exactly ten decimal digits, zero padded.
DECIMAL_WEDGE_DIGITS = 10


class InvalidBadgeUID(ValueError):
    """The text is not a badge UID any supported reader prints."""


def normalize_badge_uid(raw: str) -> str:
    """Return the canonical upper-case hex form of a badge UID, or raise `InvalidBadgeUID`."""
    text = _SEPARATORS.sub("", str(raw)).upper()
    if not text:
        raise InvalidBadgeUID("A badge UID is required.")
    if text.startswith("0X"):
        text = text[2:]
    elif text.isdigit() and len(text) == DECIMAL_WEDGE_DIGITS:
        value = int(text)
        if value > 0xFFFFFFFF:
            raise InvalidBadgeUID(
                f"{raw!r} looks like a ten-digit decimal UID but is larger than four bytes."
            )
        return f"{value:08X}"
    if not _HEX.match(text):
        raise InvalidBadgeUID(f"{raw!r} is not a badge UID: use hex digits (0-9, A-F).")
    if len(text) % 2 or len(text) // 2 not in VALID_UID_BYTES:
        raise InvalidBadgeUID(
            f"{raw!r} has {len(text)} hex digits; badge UIDs have 8, 10, 14 or 20."
        )
    return text


def badge_hash(uid: str, *, key: bytes) -> str:
    """Keyed hash of a canonical UID, for lists that must not hold raw UIDs (offline allow-list)."""
    return hmac.new(key, normalize_badge_uid(uid).encode(), hashlib.sha256).hexdigest()
