"""Read-only questions about certifications; the access decision and bookings ask these."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from training.models import Certification, MemberCertification


def certification_grants_valid_at(*, at: datetime) -> QuerySet[MemberCertification]:
    """Grants neither revoked nor expired at `at`."""
    return MemberCertification.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=at),
        granted_at__lte=at,
        revoked_at__isnull=True,
    )


def member_holds_certification(*, member, certification: Certification, at: datetime) -> bool:
    """Is `member` certified for `certification` at the instant `at`."""
    return (
        certification_grants_valid_at(at=at)
        .filter(member=member, certification=certification)
        .exists()
    )
