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
    return user.is_authenticated and (user.is_superuser or user.groups.filter(name=role).exists())
