"""The member card: a signed, expiring token in a QR code that staff scan at the desk."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.core import signing

from membership.errors import CardTokenInvalid
from membership.models import Member

_SALT = "membership.card"


def member_card_token(member: Member) -> str:
    return signing.dumps({"member": member.pk}, salt=_SALT, compress=True)


def member_from_card_token(token: str) -> Member:
    """The member a scanned card names; raises `CardTokenInvalid` when expired or tampered with."""
    try:
        payload = signing.loads(token, salt=_SALT, max_age=settings.MEMBER_CARD_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise CardTokenInvalid(
            "This member card has expired: ask the member to reopen their card page."
        ) from None
    except signing.BadSignature:
        raise CardTokenInvalid(
            "This member card is not valid: it was altered or is not ours."
        ) from None
    member = Member.objects.select_related("user").filter(pk=payload.get("member")).first()
    if member is None:
        raise CardTokenInvalid("This member card names a member who no longer exists.")
    return member


def qr_svg(data: str) -> str:
    """An inline SVG QR code of `data`."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()
