"""The site's menus, as data: who sees which entry, grouped for staff. Add an entry by adding an
`Item` to a list here (a `perm` hides it from those without that permission); the context
processor (`membership.context_processors`) marks the current page.

config may import every app; the apps never import this.
"""

from __future__ import annotations

from dataclasses import dataclass

from membership import roles


@dataclass(frozen=True)
class Item:
    label: str
    url_name: str
    perm: str = ""  # shown only to users with this permission ("" = every logged-in user)
    role: str = ""  # or only to holders of this membership.roles role
    # Only to the head office: what every location shares (staffing.shortcuts.head_office_only).
    head_office: bool = False
    # Other address prefixes that belong to this entry (the longest matching prefix wins).
    also: tuple[str, ...] = ()


# Everyone logged in, left to right.
MEMBER = [
    Item("Home", "dashboard"),
    Item("Machines", "equipment:machine_list", also=("/bookings/machine/", "/bookings/area/")),
    Item("My bookings", "bookings:my_bookings"),
    Item("Classes", "training:class_list"),
]

# Under the account's name: the member's own things.
ACCOUNT = [
    Item("Profile", "profile"),
    Item("My certifications", "training:my_certifications"),
    Item("My machine time", "access:my_usage"),
    Item("My card", "member_card"),
    Item("Billing", "membership_billing"),
    Item("API tokens", "api:tokens"),
]

TEACHING = [Item("Teaching", "training:instructor_sessions", role=roles.INSTRUCTOR)]

# The staff menu, one heading per kind of work.
STAFF: dict[str, list[Item]] = {
    "Desk": [
        Item("Today", "console:today", perm="membership.manage_members"),
        Item("Front desk", "staff_member_search", perm="membership.manage_members"),
        Item("Today's bookings", "bookings:staff_day", perm="bookings.manage_bookings"),
    ],
    "Machines": [
        Item("Machines live", "access:live", perm="access.manage_gates"),
        Item("Problem reports", "equipment:problem_list", perm="equipment.manage_machines"),
    ],
    "Training": [
        Item("Training demand", "training:demand_queue", perm="training.manage_training"),
    ],
    "Setup": [
        Item("Setup", "console:setup", perm="membership.manage_members"),
    ],
    "Integrations": [
        Item(
            "Webhooks",
            "webhooks:endpoint_list",
            perm="webhooks.manage_endpoints",
            head_office=True,
        ),
        Item("API keys", "api:keys", perm="api.manage_api_keys"),
    ],
    "Reports": [
        Item("Reports", "console:reports", perm="membership.manage_members"),
        Item("Access log", "access:log", perm="access.manage_gates"),
        Item("Background tasks", "background_tasks", perm="django_celery_results.view_taskresult"),
    ],
}

# Logged out.
VISITOR = [
    Item("Machines", "equipment:machine_list"),
    Item("Classes", "training:class_list"),
]
