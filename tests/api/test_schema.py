"""schemathesis against the published OpenAPI schema: every operation, generated inputs, as a member
and as staff, in-process over WSGI. No answer is a 5xx, and every answer matches the schema.

Bounded (a few examples an operation, no shrinking past a few steps) so it runs in seconds.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase
from hypothesis import settings as examples
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.api import api
from api.models import CredentialKind
from tests.api.conftest import issue
from tests.factories.access import AccessEventFactory, GateDeviceFactory, UsageSessionFactory
from tests.factories.bookings import BookingFactory
from tests.factories.equipment import MachineFactory
from tests.factories.training import ClassSessionFactory

# Eager (from the API object, not over HTTP): schemathesis's lazy fixture loader does not run
# under pytest 9. Requests still go through the whole WSGI stack, middleware and URL wrappers.
schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1/"))
schema.app = get_wsgi_application()


@pytest.fixture(autouse=True)
def _in_process(db, settings):
    settings.ALLOWED_HOSTS = ["localhost"]  # the Host schemathesis's WSGI requests carry
    # As Django's test client does: a request must not close the test's connection (and with it
    # the transaction every test runs in).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def scene(maker, staff):
    """Some of everything, so generated ids and slugs sometimes find a row."""
    machine = MachineFactory(slug="laser")
    BookingFactory(member=maker, machine=machine, start=timezone.now() + timedelta(days=1))
    ClassSessionFactory(start=timezone.now() + timedelta(days=2))
    gate = GateDeviceFactory(machine=machine)
    AccessEventFactory(device=gate, machine=machine, member=maker)
    UsageSessionFactory(device=gate, machine=machine, member=maker)
    return {
        "member": issue(maker.user, "read", "bookings"),
        "staff": issue(staff, "admin", kind=CredentialKind.KEY, rate_limit_per_minute=10_000),
    }


# A request the schema allows may still be refused by a rule the schema cannot say (an end
# before its start, a booking in the past): that answer is a documented 400/409, not a failure.
RULES_MAY_REFUSE = [positive_data_acceptance]


def _auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


EXAMPLES = examples(
    max_examples=4,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@schema.parametrize()
@EXAMPLES
def test_every_operation_as_a_member(case, scene):
    """No 5xx, and the status, headers and body of every answer are those the schema documents."""
    case.call_and_validate(headers=_auth(scene["member"]), excluded_checks=RULES_MAY_REFUSE)


@schema.parametrize()
@EXAMPLES
def test_every_operation_as_staff(case, scene):
    """The same, with a staff key of every scope: the staff operations answer with data."""
    case.call_and_validate(headers=_auth(scene["staff"]), excluded_checks=RULES_MAY_REFUSE)
