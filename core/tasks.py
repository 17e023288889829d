"""Background tasks every app shares: the retry policy of every email, sending an email rendered
during a request, handing stranded tasks to the broker again, and forgetting old one-time form
tokens (periodic jobs)."""

from __future__ import annotations

import functools
import logging
import smtplib

from celery import current_app, shared_task
from celery.contrib.django.task import DjangoTask
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import DatabaseError, transaction
from django.db.models import F
from kombu import serialization
from kombu.exceptions import OperationalError

from core.models import StrandedTask
from core.submissions import form_tokens_prune

logger = logging.getLogger(__name__)


class QueuedOnCommit(DjangoTask):
    """A task a web request queues with `delay_on_commit`: after the commit, a task broker that
    cannot be reached fails neither the request (committed already) nor the transaction's other
    after-commit work; the task is kept as a `StrandedTask` and queued again by a periodic job
    when the broker answers. Errors of the task itself are not caught."""

    def delay_on_commit(self, *args, **kwargs) -> None:
        transaction.on_commit(functools.partial(self._queue, args, kwargs))

    def _queue(self, args: tuple, kwargs: dict) -> None:
        try:
            self.delay(*args, **kwargs)
        except OperationalError as error:
            _strand(self.name, args, kwargs, error)


def _strand(name: str, args: tuple, kwargs: dict, error: Exception) -> None:
    """Keep a task the broker would not take. Only a database that fails at the same moment
    loses it (logged as such), as would a process killed between the commit and this."""
    content_type, encoding, payload = serialization.dumps((list(args), kwargs), serializer="json")
    try:
        StrandedTask.objects.create(
            task=name,
            payload=payload,
            content_type=content_type,
            content_encoding=encoding,
            last_error=repr(error),
        )
    except DatabaseError:
        logger.exception(
            "Could not queue %s%r %r, nor keep it to queue later: lost.", name, args, kwargs
        )
        return
    logger.error(
        "Could not queue %s%r %r: the task broker (TASK_BROKER_URL) is unreachable. Kept to "
        "queue again when it answers (Background tasks).",
        name,
        args,
        kwargs,
    )


@shared_task
def queue_stranded_tasks(*, batch: int = 500) -> int:
    """Hand tasks stranded by a broker outage to the broker again, oldest first; stops at the
    first refusal (the broker is still down) and returns how many went. Rows are locked as they
    are handed over, so two runs at once never queue one twice."""
    queued = 0
    with transaction.atomic():
        stranded_rows = StrandedTask.objects.select_for_update(skip_locked=True).order_by(
            "stranded_at", "pk"
        )[:batch]
        for stranded in stranded_rows:
            args, kwargs = serialization.loads(
                stranded.payload, stranded.content_type, stranded.content_encoding
            )
            try:
                current_app.tasks[stranded.task].apply_async(args, kwargs)
            except (OperationalError, KeyError) as error:  # still down, or a task since renamed
                StrandedTask.objects.filter(pk=stranded.pk).update(
                    attempts=F("attempts") + 1, last_error=repr(error)
                )
                if isinstance(error, OperationalError):
                    break
                continue
            stranded.delete()
            queued += 1
    return queued


class EmailTask(QueuedOnCommit):
    """The base of every email task: a mail server that refuses or cannot be reached is tried
    again, waiting longer each time (exponential backoff with full jitter, so that a queue of
    emails does not hit a recovering server at once); after the last try the task is recorded as
    failed, with its traceback, where staff see it (Background tasks), and logged as an error.

    Email tasks take ids, not model instances, and read the rows when they run.
    """

    # SMTPException: the server answered with a refusal; OSError: no connection, or a timeout.
    autoretry_for = (smtplib.SMTPException, OSError)
    retry_jitter = True
    retry_backoff_max = 3600

    @classmethod
    def on_bound(cls, app) -> None:
        # Celery calls this as it makes the task from its function, just before it wraps the
        # function with these retry options: settings are read then, not at import.
        cls.max_retries = settings.TASK_EMAIL_MAX_RETRIES
        cls.retry_backoff = settings.TASK_EMAIL_RETRY_BACKOFF_SECONDS

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        logger.error(
            "Email task %s[%s] failed for good after %d tries (args %r, kwargs %r): %r. "
            "It is listed on the staff page Background tasks.",
            self.name,
            task_id,
            self.request.retries + 1,
            args,
            kwargs,
            exc,
        )


@shared_task(base=EmailTask)
def email_send(
    *, subject: str, body: str, from_email: str | None, to: list[str], html: str = ""
) -> None:
    """Send an email rendered where its context was at hand (a request's links, say)."""
    message = EmailMultiAlternatives(subject, body, from_email, to)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()


def email_send_on_commit(message: EmailMultiAlternatives) -> None:
    """Queue `message` for the task runner once the current transaction commits."""
    html = next(
        (content for content, mimetype in message.alternatives if mimetype == "text/html"), ""
    )
    email_send.delay_on_commit(
        subject=message.subject,
        body=message.body,
        from_email=message.from_email,
        to=list(message.to),
        html=html,
    )


@shared_task
def prune_form_tokens() -> int:
    """Delete one-time form tokens handled long ago; returns how many."""
    return form_tokens_prune()
