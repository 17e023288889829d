"""The roles later apps check: member, instructor, staff (superusers have every permission)."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

MEMBER = "Member"
INSTRUCTOR = "Instructor"
STAFF = "Staff"

ROLE_PERMISSIONS: dict[str, list[str]] = {
    MEMBER: [],
    INSTRUCTOR: [],
    STAFF: [
        "membership.manage_members",
        "membership.record_payment",
        "membership.view_member",
        "membership.view_badge",
        "membership.view_membership",
        # Background tasks: failed and retrying emails and jobs (core.task_views).
        "django_celery_results.view_taskresult",
    ],
}


def grant_role_permissions(role: str, permissions: list[str]) -> Group:
    """Give `role` the permissions named `app_label.codename`; apps call this after migrating."""
    group, _ = Group.objects.get_or_create(name=role)
    for dotted in permissions:
        app_label, codename = dotted.split(".", 1)
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return group


def sync_roles_after_migrate(**kwargs) -> None:
    for role, permissions in ROLE_PERMISSIONS.items():
        grant_role_permissions(role, permissions)


def user_has_role(user, role: str) -> bool:
    """Asked once per request for each role (the menu and the page both ask): the answer is kept
    on `user`, as Django keeps its permissions; `role_forget` drops it when a role changes."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    held: dict[str, bool] = user.__dict__.setdefault("_roles_held", {})
    if role not in held:
        held[role] = user.groups.filter(name=role).exists()
    return held[role]


def role_forget(user) -> None:
    user.__dict__.pop("_roles_held", None)
