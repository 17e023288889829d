"""Staff replace a gate's credentials from its page: the new config is shown once, never again."""

from __future__ import annotations

import tomllib

import pytest

from access.models import GateDevice
from tests.access.conftest import build_scene
from tests.factories.access import GateDeviceFactory
from tests.factories.membership import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_replace_a_gates_credentials_and_see_the_config_once(page, log_in, settings):
    settings.GATE_BROKER_URL = "mqtt://127.0.0.1:1"  # no broker: the old Pi is told nothing
    scene = build_scene()
    device = GateDeviceFactory(machine=scene.machine, device_id="laser-1")
    old_secret = device.secret
    log_in(UserFactory(role="Staff"), PASSWORD)

    page.goto("/access/live/")
    page.get_by_role("link", name="laser-1").click()
    page.get_by_role("heading", name="Gate laser-1").wait_for()
    page.locator("summary", has_text="Replace credentials").click()
    page.locator("#credentials_reason").fill("SD card reimaged")
    page.get_by_role("button", name="Replace credentials").click()

    page.get_by_role("heading", name="New credentials for gate laser-1").wait_for()
    config = tomllib.loads(page.locator("pre code").first.inner_text())
    device.refresh_from_db()
    assert config["secret"] == device.secret != old_secret
    assert page.get_by_text("gate_broker_config").first.is_visible()

    # A reload sends the same one-time form again: refused, and the secret is not shown.
    page.reload()
    page.get_by_text("This form was already submitted").wait_for()
    assert device.secret not in page.content()
    assert GateDevice.objects.get().secret == device.secret
