"""`{% load training_tags %}{% member_certifications member %}`: a member's certifications and
history, for the member's dashboard and the staff member page (which cannot import training)."""

from django import template
from django.utils import timezone

from training import selectors
from training.forms import ReasonForm

register = template.Library()


@register.inclusion_tag("training/_member_certifications.html", takes_context=True)
def member_certifications(context, member):
    request = context.get("request")
    user = getattr(request, "user", None)
    now = timezone.now()
    # The member's own view (dashboard) suggests classes; the front desk's (staff_* pages, even
    # for one's own record) shows the full history with revoke buttons.
    match = getattr(request, "resolver_match", None)
    staff_page = bool(match and (match.url_name or "").startswith("staff_"))
    own = not staff_page and user is not None and user.pk == member.user_id
    history = list(selectors.member_grant_history(member))
    for grant in history:
        grant.state = selectors.grant_state(grant, at=now)
        grant.state_label = selectors.GrantState.LABELS[grant.state]
        grant.can_revoke = (
            staff_page
            and grant.revoked_at is None
            and user is not None
            and selectors.user_can_sign_off(user, grant.certification)
        )
    return {
        "member": member,
        "own": own,
        "history": history,
        "summary": selectors.member_certification_summary(member, at=now),
        "suggested": selectors.classes_for_member(member, at=now, limit=3) if own else [],
        "enrollments": selectors.member_upcoming_enrollments(member, at=now) if own else [],
        "revoke_form": ReasonForm() if any(g.can_revoke for g in history) else None,
        "next": request.get_full_path() if request is not None else "",
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("training/_public_schedule.html")
def public_schedule(limit: int = 6):
    """The next classes, with free seats, for visitors (the home page)."""
    return {
        "sessions": selectors.sessions_upcoming(at=timezone.now()).select_related("certification")[
            :limit
        ]
    }
