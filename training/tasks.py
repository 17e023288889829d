"""Training's periodic jobs for the task runner (beat's schedule is in settings.py)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from training import notifications, selectors


@shared_task
def send_training_reminders() -> dict[str, int]:
    """Expiry reminders and waitlist promotion emails not yet sent, each once."""
    reminders, promotions = notifications.send_due_reminders(
        at=timezone.now(), within=selectors.EXPIRING_SOON
    )
    return {"reminders": reminders, "promotions": promotions}


@shared_task
def release_class_fee_holds() -> int:
    """Seats whose class fee was not paid by their deadline go to the waitlist."""
    from training import fees

    return fees.class_fee_holds_release(now=timezone.now())
