"""Recording a change to the space's setup, in the caller's transaction (`SetupChange`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Model

from core.models import SetupChange


def _text(value: Any) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(sorted(str(item) for item in value))
    return "" if value is None else str(value)


def setup_snapshot(obj: Model, fields: list[str]) -> dict[str, str]:
    """The fields' values as text; a many-to-many field lists the related objects' names."""
    snapshot = {}
    for name in fields:
        value = getattr(obj, name)
        if hasattr(value, "all"):
            value = [str(related) for related in value.all()] if obj.pk else []
        snapshot[name] = _text(value)
    return snapshot


def setup_change_record(
    *,
    subject_type: str,
    subject: Model,
    actor: Any,
    before: Mapping[str, str] | None,
    after: Mapping[str, str],
    action: str | None = None,
    reason: str = "",
) -> SetupChange | None:
    """One row for the change from `before` (None: created) to `after`; None if nothing changed."""
    if before is None:
        changes = {name: ["", value] for name, value in after.items() if value}
        action = action or SetupChange.Action.CREATED
    else:
        changes = {
            name: [before.get(name, ""), value]
            for name, value in after.items()
            if before.get(name, "") != value
        }
        if not changes:
            return None
        action = action or SetupChange.Action.CHANGED
    return SetupChange.objects.create(
        subject_type=subject_type,
        subject_id=subject.pk,
        subject_name=str(subject)[:200],
        action=action,
        changes=changes,
        actor=actor,
        reason=reason,
    )
