"""The site's menus, as data: who sees which entry, grouped for staff. Add an entry by adding an
`Item` to a list here (a `perm` hides it from those without that permission); the context
processor (`membership.context_processors`) marks the current page.

config may import every app; the apps never import this.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from membership import roles


@dataclass(frozen=True)
class Item:
    label: str | Promise  # translated when shown, in the viewer's language
    url_name: str
    perm: str = ""  # shown only to users with this permission ("" = every logged-in user)
    role: str = ""  # or only to holders of this membership.roles role
    # Only to the head office: what every location shares (staffing.shortcuts.head_office_only).
    head_office: bool = False
    # Other address prefixes that belong to this entry (the longest matching prefix wins).
    also: tuple[str, ...] = ()


# Everyone logged in, left to right.
MEMBER = [
    Item(_("Home"), "dashboard"),
    Item(_("Machines"), "equipment:machine_list", also=("/bookings/machine/", "/bookings/area/")),
    Item(_("My bookings"), "bookings:my_bookings"),
    Item(_("Classes"), "training:class_list"),
]

# Under the account's name: the member's own things.
ACCOUNT = [
    Item(_("Profile"), "profile"),
    Item(_("My certifications"), "training:my_certifications"),
    Item(_("My machine time"), "access:my_usage"),
    Item(_("My card"), "member_card"),
    Item(_("Billing"), "membership_billing"),
    Item(_("API tokens"), "api:tokens"),
]

TEACHING = [Item(_("Teaching"), "training:instructor_sessions", role=roles.INSTRUCTOR)]

# The staff menu, one heading per kind of work.
STAFF: dict[str | Promise, list[Item]] = {
    _("Desk"): [
        Item(_("Today"), "console:today", perm="membership.manage_members"),
        Item(_("Front desk"), "staff_member_search", perm="membership.manage_members"),
        Item(_("Today's bookings"), "bookings:staff_day", perm="bookings.manage_bookings"),
    ],
    _("Machines"): [
        Item(_("Machines live"), "access:live", perm="access.manage_gates"),
        Item(_("Problem reports"), "equipment:problem_list", perm="equipment.manage_machines"),
    ],
    _("Training"): [
        Item(_("Training demand"), "training:demand_queue", perm="training.manage_training"),
    ],
    _("Setup"): [
        Item(_("Setup"), "console:setup", perm="membership.manage_members"),
    ],
    _("Integrations"): [
        Item(
            _("Webhooks"),
            "webhooks:endpoint_list",
            perm="webhooks.manage_endpoints",
            head_office=True,
        ),
        Item(_("API keys"), "api:keys", perm="api.manage_api_keys"),
    ],
    _("Reports"): [
        Item(_("Reports"), "console:reports", perm="membership.manage_members"),
        Item(_("Access log"), "access:log", perm="access.manage_gates"),
        Item(
            _("Background tasks"), "background_tasks", perm="django_celery_results.view_taskresult"
        ),
    ],
}

# Logged out.
VISITOR = [
    Item(_("Machines"), "equipment:machine_list"),
    Item(_("Classes"), "training:class_list"),
]
