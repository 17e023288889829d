"""Actions that change members, memberships, badges and waiver signatures. Each one is atomic."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import events
from core.gates import gates
from core.models import SetupChange
from core.money import money_format
from core.setup import setup_change_record, setup_snapshot
from core.submissions import submission_claim
from gate_agent.badges import InvalidBadgeUID, normalize_badge_uid
from locations.models import Location
from membership import roles, selectors
from membership.billing.ledger import ledger_record
from membership.billing.models import LedgerEntry
from membership.errors import BadgeRejected, MembershipError
from membership.models import (
    Badge,
    ChangeCause,
    Member,
    Membership,
    MembershipChange,
    MembershipStatus,
    Payment,
    Plan,
    User,
    Waiver,
    WaiverSignature,
)
from staffing.services import require_at_location, require_head_office


def _default_plan() -> Plan | None:
    return Plan.objects.filter(is_default=True).first() or Plan.objects.first()


def member_get_or_create(*, user: User) -> Member:
    """The member profile of `user`, created with a pending membership on the default plan.

    Almost always a read: a plain get, with no transaction, so a page that only reads never
    takes SQLite's write lock (`transaction_mode` IMMEDIATE takes it at every BEGIN). The member
    is kept on `user` (the one-to-one's cache), so one request reads it once however many
    callers ask, and what the member's relations cache (the membership) is shared with them.
    """
    try:
        return user.member
    except Member.DoesNotExist:
        pass
    with transaction.atomic():
        member, created = Member.objects.get_or_create(user=user)
        if created and (plan := _default_plan()) is not None:
            Membership.objects.create(member=member, plan=plan)
    user.member = member
    return member


def member_profile_update(
    *,
    member: Member,
    first_name: str,
    last_name: str,
    phone: str,
    emergency_contact: str,
    language: str,
    token: uuid.UUID | None = None,
) -> Member:
    """A member's own details: their name, phone, who to call in an emergency, and the language
    they read."""
    with transaction.atomic():
        submission_claim(token)
        user = member.user
        user.first_name, user.last_name = first_name.strip(), last_name.strip()
        user.language = language
        user.save(update_fields=["first_name", "last_name", "language"])
        member.phone, member.emergency_contact = phone.strip(), emergency_contact.strip()
        member.save(update_fields=["phone", "emergency_contact"])
    return member


def user_language_set(*, user: User, language: str) -> None:
    """The language a person chose with the switcher becomes their own: their emails follow it."""
    if language != user.language:
        user.language = language
        user.save(update_fields=["language"])


def membership_for(member: Member) -> Membership:
    """The member's membership; a member who joined before any plan existed gets a pending one
    on the default plan now."""
    membership = Membership.objects.filter(member=member).first()
    if membership is not None:
        return membership
    plan = _default_plan()
    if plan is None:
        raise MembershipError(_("There is no membership plan yet: add one in the admin (Plans)."))
    return Membership.objects.get_or_create(member=member, defaults={"plan": plan})[0]


def _notify_if_access_lost(member: Member, had_access: bool) -> None:
    if had_access and not selectors.member_may_use_machines(member):
        gates().member_lost_access(
            member=member,
            reason="access_lost",
            message="Your membership or badge no longer allows machine use.",
        )


def membership_set_status(
    *,
    membership: Membership,
    status: str,
    reason: str,
    cause: str,
    actor: User | None = None,
    period_end: datetime | None = None,
    token: uuid.UUID | None = None,
) -> MembershipChange:
    """Move a membership to `status`, recording why; the gate hears when access is lost."""
    reason = reason.strip()
    if status not in MembershipStatus.values:
        raise MembershipError(_("%(status)s is not a membership state.") % {"status": repr(status)})
    if not reason:
        raise MembershipError(_("Say why the membership state changes; the reason is kept."))
    if (
        status == MembershipStatus.ACTIVE
        and cause == ChangeCause.STAFF
        and (actor is None or not actor.has_perm("membership.record_payment"))
    ):
        # Active by hand is a membership given for free: as much a money decision as a payment.
        raise MembershipError(
            "Only staff who may record payments can make a membership active by hand."
        )
    if cause == ChangeCause.STAFF and actor is not None:
        require_at_location(user=actor, obj=membership.member, what="change a membership state")
    with transaction.atomic():
        submission_claim(token)
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        had_access = selectors.member_may_use_machines(locked.member)
        change = MembershipChange.objects.create(
            membership=locked,
            from_status=locked.status,
            to_status=status,
            period_end=period_end or locked.current_period_end,
            cause=cause,
            reason=reason,
            actor=actor,
        )
        if locked.status != status:
            locked.status_changed_at = timezone.now()
        locked.status = status
        if period_end is not None:
            locked.current_period_end = period_end
        locked.save()
        _notify_if_access_lost(locked.member, had_access)
        events.emit(events.MEMBERSHIP_CHANGED, change)
    membership.refresh_from_db()
    return change


def payment_record_manual(
    *,
    member: Member,
    actor: User,
    amount_cents: int | None = None,
    note: str = "",
    token: uuid.UUID | None = None,
) -> Payment:
    """Record a payment taken at the desk: the membership is active for one more month.

    The month runs on from the current period end while it is in the future, so paying early
    never loses days, and from now when the membership has lapsed.
    """
    require_at_location(user=actor, obj=member, what="record a payment")
    with transaction.atomic():
        submission_claim(token)
        membership = (
            Membership.objects.select_for_update()
            .select_related("plan")
            .get(pk=membership_for(member).pk)
        )
        now = timezone.now()
        period_start = max(membership.current_period_end or now, now)
        period_end = period_start + relativedelta(months=1)
        payment = Payment.objects.create(
            member=member,
            amount_cents=membership.plan.monthly_price_cents
            if amount_cents is None
            else amount_cents,
            currency=membership.plan.currency,
            method=Payment.Method.MANUAL,
            period_start=period_start,
            period_end=period_end,
            note=note.strip(),
            recorded_by=actor,
        )
        if payment.amount_cents:
            ledger_record(
                member=member,
                kind=LedgerEntry.Kind.MEMBERSHIP,
                method=LedgerEntry.Method.CASH,
                amount_minor=payment.amount_cents,
                currency=payment.currency,
                cause=payment,
                recorded_by=actor,
                memo=payment.note or "Membership paid at the desk",
                occurred_at=payment.created_at,
            )
        membership_set_status(
            membership=membership,
            status=MembershipStatus.ACTIVE,
            reason=f"Manual payment of {money_format(payment.amount_cents, payment.currency)}"
            f" recorded by {actor}",
            cause=ChangeCause.MANUAL_PAYMENT,
            actor=actor,
            period_end=period_end,
        )
    return payment


def _badge_uid_canonical(uid: str) -> str:
    try:
        return normalize_badge_uid(uid)
    except InvalidBadgeUID as error:
        raise BadgeRejected(str(error)) from None


def badge_assign(
    *, member: Member, uid: str, actor: User | None, token: uuid.UUID | None = None
) -> Badge:
    """Give `member` a badge; the UID is normalised and must not be enabled for anyone else."""
    canonical = _badge_uid_canonical(uid)
    if actor is not None:
        require_at_location(user=actor, obj=member, what="assign a badge")
    with transaction.atomic():
        submission_claim(token)
        holder = Badge.objects.filter(uid=canonical, enabled=True).select_related("member").first()
        if holder is not None:
            owner = "this member" if holder.member_id == member.pk else "another member"
            raise BadgeRejected(
                _("Badge %(canonical)s is already enabled for %(owner)s.")
                % {"canonical": canonical, "owner": owner}
            )
        try:
            with transaction.atomic():
                return Badge.objects.create(uid=canonical, member=member, issued_by=actor)
        except IntegrityError:
            # A concurrent assignment of the same card won the race; the constraint is the judge.
            raise BadgeRejected(
                f"Badge {canonical} is already enabled for another member."
            ) from None


def badge_disable(
    *, badge: Badge, reason: str, actor: User | None, token: uuid.UUID | None = None
) -> Badge:
    """Disable a badge with a reason; the record stays as history."""
    reason = reason.strip()
    if not reason:
        raise BadgeRejected(_("Say why the badge is disabled (lost, stolen, left the space...)."))
    if actor is not None:
        require_at_location(user=actor, obj=badge.member, what="disable a badge")
    with transaction.atomic():
        submission_claim(token)
        locked = Badge.objects.select_for_update().get(pk=badge.pk)
        if not locked.enabled:
            raise BadgeRejected(_("Badge %(uid)s is already disabled.") % {"uid": locked.uid})
        had_access = selectors.member_may_use_machines(locked.member)
        locked.enabled = False
        locked.disabled_at = timezone.now()
        locked.disabled_by = actor
        locked.disabled_reason = reason
        locked.save()
        if had_access and not selectors.member_may_use_machines(locked.member):
            _notify_if_access_lost(locked.member, had_access)
        else:  # the member keeps another badge: only sessions of this one stop
            gates().badge_disabled(badge=locked)
    return locked


def badge_replace(
    *, badge: Badge, new_uid: str, reason: str, actor: User | None, token: uuid.UUID | None = None
) -> Badge:
    """Replace a lost or broken card: the old one is disabled and linked to its successor."""
    # Disabling first frees the UID, so without this check the lost card would be re-issued.
    if _badge_uid_canonical(new_uid) == badge.uid:
        raise BadgeRejected(
            f"{badge.uid} is the lost card itself: scan or type the UID of the new card."
        )
    with transaction.atomic():
        submission_claim(token)
        old = badge_disable(badge=badge, reason=reason or "Replaced", actor=actor)
        new = badge_assign(member=old.member, uid=new_uid, actor=actor)
        old.replaced_by = new
        old.save(update_fields=["replaced_by"])
    return new


def waiver_sign(
    *, member: Member, waiver: Waiver, signed_name: str, token: uuid.UUID | None = None
) -> WaiverSignature:
    """Sign the current waiver version with a typed full name."""
    signed_name = signed_name.strip()
    if not signed_name:
        raise MembershipError(_("Type your full name to sign the waiver."))
    current = selectors.waiver_current()
    if current is None or current.pk != waiver.pk:
        raise MembershipError(
            _("This waiver version is no longer current; please read the new one.")
        )
    with transaction.atomic():
        submission_claim(token)
        signature, created = WaiverSignature.objects.get_or_create(
            member=member, waiver=waiver, defaults={"signed_name": signed_name}
        )
    if not created:
        raise MembershipError(
            _("You already signed version %(version)s of the waiver.") % {"version": waiver.version}
        )
    return signature


# -- setup: plans and waiver versions (staff, recorded as SetupChange) ---------------------

PLAN_FIELDS = ["name", "monthly_price_cents", "currency", "is_default"]


def _require_setup_staff(actor: User | None, *, what: str) -> None:
    if actor is None:
        return
    if not actor.has_perm("membership.manage_members"):
        raise MembershipError(_("Only staff can change plans and waivers."))
    require_head_office(user=actor, what=what)


def plan_save(*, plan: Plan, actor: User | None, token: uuid.UUID | None = None) -> Plan:
    """Add `plan` or store staff's changes to it (its fields already set), recorded.

    A new price applies from each membership's next period; a plan made the default takes the
    place of the old default (new members get it).
    """
    _require_setup_staff(actor, what="change a plan")
    if not plan.name.strip():
        raise MembershipError(_("Name the plan."))
    with transaction.atomic():
        submission_claim(token)
        before = None
        if plan.pk is not None:
            before = setup_snapshot(Plan.objects.select_for_update().get(pk=plan.pk), PLAN_FIELDS)
        if plan.is_default:
            Plan.objects.filter(is_default=True).exclude(pk=plan.pk).update(is_default=False)
        try:
            with transaction.atomic():
                plan.save()
        except IntegrityError:
            raise MembershipError(
                _("Another plan is already called %(name)s.") % {"name": plan.name}
            ) from None
        setup_change_record(
            subject_type="plan",
            subject=plan,
            actor=actor,
            before=before,
            after=setup_snapshot(plan, PLAN_FIELDS),
        )
    return plan


def waiver_publish(
    *, title: str, text: str, actor: User | None, token: uuid.UUID | None = None
) -> Waiver:
    """Publish a new waiver version: it is current at once, and every member must sign it
    before their next machine use (the access decision reads the current version; the gates'
    offline lists are renewed in this transaction). Sessions running now run to their end."""
    _require_setup_staff(actor, what="publish a waiver")
    title, text = title.strip(), text.strip()
    if not title or not text:
        raise MembershipError(_("A waiver needs a title and its text."))
    with transaction.atomic():
        submission_claim(token)
        # Two staff publishing at once: the unique version refuses the second.
        current = Waiver.objects.select_for_update().order_by("-version").first()
        if current is not None and (current.title, current.text) == (title, text):
            raise MembershipError(_("This is the current waiver's text already: change it first."))
        try:
            with transaction.atomic():
                waiver = Waiver.objects.create(
                    version=(current.version + 1) if current else 1, title=title, text=text
                )
        except IntegrityError:
            raise MembershipError(_("Someone published a version meanwhile: reload.")) from None
        setup_change_record(
            subject_type="waiver",
            subject=waiver,
            actor=actor,
            before=None,
            after={"version": str(waiver.version), "title": title},
            action=SetupChange.Action.PUBLISHED,
        )
        gates().every_machine_changed()
    return waiver


def role_set(
    *, user: User, role: str, held: bool, actor: User | None, token: uuid.UUID | None = None
) -> bool:
    """Give `user` the role (`held`) or take it away, recorded; False if nothing changed.

    Staff give and take the Instructor role; only a superuser the Staff role (staff cannot
    make staff, nor remove each other).
    """
    if role not in (roles.INSTRUCTOR, roles.STAFF):
        raise MembershipError(_("%(role)s is not a role staff hand out.") % {"role": repr(role)})
    if actor is not None and not (
        actor.is_superuser
        or (role == roles.INSTRUCTOR and actor.has_perm("membership.manage_members"))
    ):
        raise MembershipError(
            "Staff may make members instructors; only an administrator may make or remove staff."
        )
    if actor is not None:
        # The role holds where its holder holds a location role, else at the first location.
        require_head_office(user=actor, what=f"give or take the {role} role")
    with transaction.atomic():
        submission_claim(token)
        group = Group.objects.get(name=role)
        if user.groups.filter(pk=group.pk).exists() == held:
            return False
        (user.groups.add if held else user.groups.remove)(group)
        roles.role_forget(user)
        setup_change_record(
            subject_type="role",
            subject=user,
            actor=actor,
            before={role: "no" if held else "yes"},
            after={role: "yes" if held else "no"},
        )
    return True


def plan_locations_set(
    *, plan: Plan, all_locations: bool, locations: Iterable[Location], actor: User | None = None
) -> None:
    """Open `plan` to every location, or only to `locations`.

    Members on the plan lose what it no longer opens at once: their sessions at machines of
    those locations stop and the gates' allow-lists drop them, in this transaction (the outbox);
    the gates of locations it newly opens are sent new lists.
    """
    if actor is not None and not actor.has_perm("membership.change_plan"):
        raise MembershipError(_("Only staff who manage plans can change the locations they open."))
    every = set(Location.objects.values_list("pk", flat=True))
    with transaction.atomic():
        locked = Plan.objects.select_for_update().get(pk=plan.pk)
        before = (
            every if locked.all_locations else set(locked.locations.values_list("pk", flat=True))
        )
        plan.all_locations = all_locations
        plan.save(update_fields=["all_locations"])
        plan.locations.set(list(locations))
        after = every if all_locations else set(plan.locations.values_list("pk", flat=True))
        lost, gained = before - after, after - before
        if lost:
            machines = [
                m for loc in Location.objects.filter(pk__in=lost) for m in loc.machines.all()
            ]
            for membership in locked.membership_set.select_related("member"):
                gates().member_lost_access(
                    member=membership.member,
                    reason="plan_excludes_location",
                    message="Your plan does not include this location.",
                    machines=machines,
                )
        if gained:
            gates().machines_changed(
                machines=[
                    m for loc in Location.objects.filter(pk__in=gained) for m in loc.machines.all()
                ]
            )
