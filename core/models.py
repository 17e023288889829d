"""The ground floor's tables: handled one-time form tokens, the base of every audit history and of
every app's calendar entries."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class FormSubmission(models.Model):
    """One row per handled form token: a double-submitted form is recognised and changes nothing.

    Rows are only needed while a second submit of the same page is plausible; `form_tokens_prune`
    deletes old ones.
    """

    token = models.UUIDField(unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return str(self.token)


class StateChange(models.Model):
    """Who changed what state, when and why: one row per change, never edited or deleted.

    The base of each app's history (membership, machine and gate changes). It holds what every
    history shares; each subclass adds its subject and what changed (a membership status, a
    machine state, a gate's kind of change and machines), and says it in `describe()`.
    """

    reason = models.CharField(max_length=500)
    # None: the system or a payment processor made the change, not a person.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        who = self.actor or "the system"
        return (
            f"{self.describe()}, by {who} at {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"
        )

    def describe(self) -> str:
        """What changed, in a few words (e.g. "Laser cutter: In service → Out of service")."""
        raise NotImplementedError


class SetupChange(StateChange):
    """A change staff made to the space's setup (a certification, a plan, a waiver version, a
    role): what was changed, each field before and after. The setup screens' history."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        CHANGED = "changed", "Changed"
        PUBLISHED = "published", "Published"

    # What was changed, named without a foreign key: `core` knows no other app's tables.
    subject_type = models.CharField(max_length=40)  # "certification", "plan", "waiver", "role"
    subject_id = models.PositiveBigIntegerField()
    subject_name = models.CharField(max_length=200)
    action = models.CharField(max_length=20, choices=Action.choices)
    # {"field": [before, after]} as text, for the fields that changed.
    changes = models.JSONField(default=dict, blank=True)

    class Meta(StateChange.Meta):
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def describe(self) -> str:
        fields = ", ".join(self.changes) if self.action == self.Action.CHANGED else ""
        what = f"{self.subject_type} {self.subject_name}: {self.get_action_display().lower()}"
        return f"{what} ({fields})" if fields else what


class CalendarEntry(models.Model):
    """What a django-scheduler event means to the app that made it (a machine's opening hours or
    maintenance, a location's opening hours or closure), with who made it and why. Each subclass
    adds its subject, the event (one to one) and its kinds."""

    reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class StrandedTask(models.Model):
    """A task the site could not hand to the task broker after its transaction committed (the
    broker was down): kept here, shown to staff, and handed over again by the periodic job
    `core.tasks.queue_stranded_tasks` once the broker answers (docs/tasks.md)."""

    task = models.CharField(max_length=200)
    # The (args, kwargs) pair as Celery's JSON serializer writes it, so dates and times come
    # back as the task was given them.
    payload = models.TextField()
    content_type = models.CharField(max_length=100)
    content_encoding = models.CharField(max_length=20)
    stranded_at = models.DateTimeField(default=timezone.now, db_index=True)
    attempts = models.PositiveIntegerField(default=1)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.task} (stranded {self.stranded_at:%Y-%m-%d %H:%M})"
