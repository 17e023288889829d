"""Class actions that reach bookings, from the class page: the machines held for a session, and
moving a session (its machines go with it).

The page is training's, the action is bookings': holding a machine cancels the bookings it
overlaps, and training may import neither bookings nor equipment (it could not even list the
machines). So the picker, its actions and the move live here, where bookings may import
training, and the class page reaches them by URL name. A move and the machine hold at the new
time are one action in one transaction (`services.class_session_move`), never a signal.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bookings import selectors, services
from bookings.forms import SessionMachinesForm
from bookings.models import Booking
from core import formats
from core.forms import OnceForm
from core.views import Outcome, form_action
from equipment.models import Machine
from locations.zones import activate
from staffing.services import require_at_location
from training import selectors as training_selectors
from training.forms import MoveForm
from training.models import ClassSession


def _session_for(request, pk: int) -> ClassSession:
    session = get_object_or_404(
        ClassSession.objects.select_related("certification", "instructor"), pk=pk
    )
    if training_selectors.user_is_training_staff_elsewhere(request.user, session):
        require_at_location(
            user=request.user, obj=session, what="class machines", path=request.path
        )
    activate(session)  # its times in its location's zone
    if not selectors.user_may_hold_machines(request.user, session):
        raise PermissionDenied
    return session


def _render_panel(request, session: ClassSession, *, form=None, notice="", error="", status=200):
    choices = selectors.session_machines(session)
    template = (
        "bookings/_session_machines.html" if request.htmx else "bookings/session_machines.html"
    )
    return render(
        request,
        template,
        {
            "session": session,
            "held": [choice for choice in choices if choice.held],
            "offered": [choice for choice in choices if not choice.held],
            "form": form or SessionMachinesForm(choices=choices),
            "release_form": OnceForm(),
            "notice": notice,
            "error": error,
            "upcoming": session.end > timezone.now() and not session.is_cancelled,
        },
        status=status,
    )


def _outcome(request, session: ClassSession, outcome: Outcome, *, form=None):
    """htmx gets the panel back in place with the outcome in it (a refused `form` as typed);
    a plain post goes back to the class page, the outcome flashed (form_action's flash)."""
    if not request.htmx:
        return redirect("training:session_detail", pk=session.pk)
    if outcome:
        return _render_panel(request, session, notice=outcome.message)
    # 200 so htmx swaps a refusal into the page too.
    return _render_panel(request, session, form=form, error=outcome.message)


@login_required
def session_machines(request, pk: int):
    """GET: the machines panel of a class. POST: hold the chosen machines for it."""
    session = _session_for(request, pk)
    if request.method != "POST":
        return _render_panel(request, session)
    form = SessionMachinesForm(request.POST, choices=selectors.session_machines(session))
    outcome = form_action(
        request,
        form,
        lambda data: services.class_session_reserve_machines(
            session=session,
            machines=list(data["machines"]),
            actor=request.user,
            token=data["form_token"],
        ),
        success=lambda cancelled: _held_notice(list(form.cleaned_data["machines"]), cancelled),
        invalid=_("Choose at least one machine to hold."),
        flash=not request.htmx,
    )
    return _outcome(request, session, outcome, form=form)


def _held_notice(machines: list[Machine], cancelled: list[Booking]) -> str:
    held = ", ".join(machine.name for machine in machines)
    if not cancelled:
        return _("Held %(machines)s for this class; no bookings were in the way.") % {
            "machines": held
        }
    who = "; ".join(
        _("%(member)s (%(machine)s, %(start)s to %(end)s)")
        % {
            "member": booking.member.display_name,
            "machine": booking.machine.name,
            "start": formats.format_moment(booking.start),
            "end": formats.format_time(booking.end),
        }
        for booking in cancelled
    )
    return _(
        "Held %(machines)s for this class. Cancelled %(count)s booking(s), and emailed the "
        "members why: %(who)s."
    ) % {"machines": held, "count": len(cancelled), "who": who}


@login_required
@require_POST
def session_machine_release(request, pk: int, slug: str):
    session = _session_for(request, pk)
    machine = get_object_or_404(Machine, slug=slug)
    activate(machine)  # its times in its location's zone
    outcome = form_action(
        request,
        OnceForm(request.POST),
        lambda data: services.class_session_release_machine(
            session=session, machine=machine, actor=request.user, token=data["form_token"]
        ),
        success=_("%(machine)s is no longer held for this class.") % {"machine": machine.name},
        invalid=_("The form was incomplete; nothing was changed."),
        flash=not request.htmx,
    )
    return _outcome(request, session, outcome)


@require_POST
@login_required
def session_move(request, pk: int):
    session = get_object_or_404(ClassSession, pk=pk)
    if training_selectors.user_is_training_staff_elsewhere(request.user, session):
        require_at_location(user=request.user, obj=session, what="move a class", path=request.path)
    activate(session)  # its times in its location's zone
    form_action(
        request,
        MoveForm(request.POST),
        lambda data: services.class_session_move(
            session=session,
            start=data["start"],
            end=data["end"],
            actor=request.user,
            token=data["form_token"],
        ),
        success=_("Class moved; everyone enrolled is emailed the new time."),
    )
    return redirect("training:session_detail", pk=pk)
