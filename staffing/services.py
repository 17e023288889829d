"""Grant and withdraw location roles, and refuse (and log) a staff action outside them."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from locations.models import Location
from staffing.models import LocationRole, RefusedAction, Role
from staffing.selectors import location_id_of, role_scope

log = logging.getLogger(__name__)


class OutOfScope(PermissionDenied):
    """A staff member acted on something at a location where they hold no role (a 403)."""


def location_role_grant(
    *, user: Any, role: Role, location: Location | None, actor: Any = None
) -> LocationRole:
    """`user` holds `role` at `location` (None: chain-wide) from now on; granting twice is a no-op."""
    with transaction.atomic():
        grant, _created = LocationRole.objects.get_or_create(
            user=user, role=role, location=location, defaults={"granted_by": actor}
        )
    user.__dict__.pop("_role_scopes", None)
    return grant


def location_role_withdraw(*, user: Any, role: Role, location: Location | None) -> None:
    LocationRole.objects.filter(user=user, role=role, location=location).delete()
    user.__dict__.pop("_role_scopes", None)


def require_at_location(
    *, user: Any, obj: Any, what: str, role: Role = Role.STAFF, path: str = ""
) -> None:
    """Raise `OutOfScope` (and keep a `RefusedAction`) unless `user` holds `role` where `obj` is.

    Services call this before changing anything; scoped selectors call it for the object a URL
    names, so a staff member of one location who types another's URL changes nothing.
    """
    location_id = location_id_of(obj)
    if role_scope(user, role).includes(location_id):
        return
    refused_action_record(user=user, role=role, location_id=location_id, what=what, path=path)
    # `what` names the action in English, as the refused action keeps it for the audit.
    raise OutOfScope(
        _("%(what)s: not at a location where you are %(role)s.")
        % {"what": what, "role": role.label.lower()}
    )


def require_head_office(*, user: Any, what: str, path: str = "") -> None:
    """Raise `OutOfScope` (and keep a `RefusedAction`) unless `user` is staff at every location.

    What every location shares is the head office's to change: certifications, plans and
    prices, the waiver, who is an instructor, the webhooks. A staff member of one location
    changing them would change them at all the others. In a space with one location its staff
    are the head office."""
    if role_scope(user, Role.STAFF).covers_every_location():
        return
    refused_action_record(user=user, role=Role.STAFF, location_id=None, what=what, path=path)
    raise OutOfScope(
        _("%(what)s: only head-office staff (staff at every location) change this.")
        % {"what": what}
    )


def refused_action_record(
    *, user: Any, role: Role, location_id: int | None, what: str, path: str = ""
) -> None:
    log.warning(
        "Refused %s (user %s, %s) at location %s: %s", what, user.pk, role, location_id, path
    )
    RefusedAction.objects.create(
        user=user, role=role, location_id=location_id, what=what[:200], path=path[:500]
    )
