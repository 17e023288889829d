"""Template context every page needs: the space's name and the viewer's roles for navigation."""

from django.conf import settings

from membership import roles


def toolgate(request):
    user = request.user
    return {
        "space_name": settings.SPACE_NAME,
        "is_staff_role": user.is_authenticated and user.has_perm("membership.manage_members"),
        "is_instructor_role": roles.user_has_role(user, roles.INSTRUCTOR),
    }
