"""The training permissions each role gets: instructors teach, staff also manage training."""

from __future__ import annotations

from membership import roles

ROLE_PERMISSIONS = {
    roles.INSTRUCTOR: ["training.teach"],
    roles.STAFF: ["training.teach", "training.manage_training"],
}


def grant_training_permissions(**kwargs) -> None:
    """post_migrate: give the roles training's permissions (idempotent)."""
    for role, permissions in ROLE_PERMISSIONS.items():
        roles.grant_role_permissions(role, permissions)
