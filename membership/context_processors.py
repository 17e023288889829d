"""Template context every page needs: the space's name and facts, the viewer's roles, and the
menus (config.navigation) with the current page marked."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from membership import roles
from staffing.selectors import staff_scope


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    current: bool
    prefixes: tuple[str, ...] = ()
    url_name: str = ""


def _links(request, items) -> list[Link]:
    user = request.user
    links = []
    for item in items:
        if item.perm and not user.has_perm(item.perm):
            continue
        if item.role and not roles.user_has_role(user, item.role):
            continue
        if getattr(item, "head_office", False) and not staff_scope(user).covers_every_location():
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:  # an app not installed, or an entry ahead of its page
            continue
        links.append(Link(item.label, url, False, (url, *getattr(item, "also", ())), item.url_name))
    return links


def _mark_current(path: str, groups: list[list[Link]]) -> list[list[Link]]:
    """The one link with the longest address prefix of this page's is current."""
    matches = [
        (len(prefix), link.url)
        for group in groups
        for link in group
        for prefix in link.prefixes
        if path.startswith(prefix)
    ]
    best = max(matches)[1] if matches else None
    return [
        [Link(x.label, x.url, x.url == best, x.prefixes, x.url_name) for x in group]
        for group in groups
    ]


def navigation(request) -> dict:
    nav = import_module(getattr(settings, "NAVIGATION_MODULE", "config.navigation"))
    if not request.user.is_authenticated:
        (visitor,) = _mark_current(request.path, [_links(request, nav.VISITOR)])
        return {"nav_main": visitor, "nav_account": [], "nav_staff": []}
    # Iterated, never looked up by name: the headings are lazy translations, whose hash follows
    # the active language.
    staff_names = [name for name, _ in nav.STAFF.items()]
    groups = [
        _links(request, nav.MEMBER + nav.TEACHING),
        _links(request, nav.ACCOUNT),
        *(_links(request, items) for _, items in nav.STAFF.items()),
    ]
    marked = _mark_current(request.path, groups)
    staff = [(name, links) for name, links in zip(staff_names, marked[2:], strict=True) if links]
    return {
        "nav_main": marked[0],
        "nav_account": marked[1],
        "nav_account_current": any(link.current for link in marked[1]),
        "nav_staff": staff,
        "nav_staff_current": any(link.current for _, links in staff for link in links),
    }


def toolgate(request):
    user = request.user
    return {
        "space_name": settings.SPACE_NAME,
        "space_address": settings.SPACE_ADDRESS,
        "space_hours": settings.SPACE_HOURS,
        "is_staff_role": user.is_authenticated and user.has_perm("membership.manage_members"),
        "is_instructor_role": roles.user_has_role(user, roles.INSTRUCTOR),
        **navigation(request),
    }
