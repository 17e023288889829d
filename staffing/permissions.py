"""Object permissions as django-rules predicates: `user.has_perm(<permission>, obj)` holds when the
user has the permission (through their role's group) and holds the role where `obj` is.

Django's own backend answers a permission without an object; with an object it says no and the
rules backend answers, so `has_perm("access.manage_gates", gate)` asks both what and where.
"""

from __future__ import annotations

import rules

from staffing.models import Role
from staffing.selectors import location_id_of, role_scope

# The permissions each location role scopes: staff run the desk, the gates, the bookings, the
# takings, the machines and the training of their locations; instructors teach at theirs.
SCOPED_PERMISSIONS: dict[str, Role] = {
    "membership.manage_members": Role.STAFF,
    "membership.record_payment": Role.STAFF,
    "access.manage_gates": Role.STAFF,
    "bookings.manage_bookings": Role.STAFF,
    "equipment.manage_machines": Role.STAFF,
    "training.manage_training": Role.STAFF,
    "training.teach": Role.INSTRUCTOR,
}


def _at_location(permission: str, role: Role):
    @rules.predicate(name=f"{permission} at the object's location")
    def predicate(user, obj=None) -> bool:
        if obj is None or not user.has_perm(permission):
            return False
        return role_scope(user, role).includes(location_id_of(obj))

    return predicate


def register() -> None:
    for permission, role in SCOPED_PERMISSIONS.items():
        rules.set_perm(permission, _at_location(permission, role))
