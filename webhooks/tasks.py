"""The task runner's side of webhooks: deliver an endpoint's queue (queued at the commit that
recorded events, and again at each retry's time), and a periodic sweep that catches anything whose
task was lost and announces certifications that expired with time."""

from __future__ import annotations

from celery import shared_task

from core import clock
from core.tasks import QueuedOnCommit
from webhooks import services
from webhooks.expiry import certifications_expired_announce


@shared_task(base=QueuedOnCommit)
def deliver_endpoint(endpoint_id: int) -> int:
    """Deliver what is due for one endpoint, in order; a failure is retried at its backoff time.
    Returns how many deliveries went."""
    run = services.endpoint_deliver(endpoint_id=endpoint_id)
    if run.retry_at is not None:
        deliver_endpoint.apply_async((endpoint_id,), eta=run.retry_at)
    return run.delivered


@shared_task
def webhooks_sweep() -> dict[str, int]:
    """Periodic: queue every endpoint with a delivery due that no worker holds, and announce
    certifications that expired since the last sweep."""
    expired = certifications_expired_announce(now=clock.now())
    due = services.endpoints_due()
    for endpoint_id in due:
        deliver_endpoint.delay(endpoint_id)
    return {"endpoints_queued": len(due), "certifications_expired": expired}
