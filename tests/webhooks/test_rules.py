"""Server-side request forgery: which webhook URLs may be registered and called."""

from __future__ import annotations

import pytest

from webhooks import services
from webhooks.errors import WebhookError
from webhooks.rules import address_refusal, url_refusal


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("https://hooks.example.com/x", None),
        ("http://hooks.example.com/x", "https://"),
        ("ftp://hooks.example.com/x", "https://"),
        ("https://user:pw@hooks.example.com/", "user name"),
        ("https:///nohost", "no host"),
        ("https://hooks.example.com:99999/", "valid URL"),
        ("not a url", "https://"),
    ],
)
def test_url_refusal(url, refused):
    said = url_refusal(url, allow_private=False)
    assert (said is None) if refused is None else (refused in said)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.10",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",  # noqa: S104
        "::1",
        "fe80::1%eth0",
        "fc00::1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
def test_private_addresses_refused(address):
    assert "private" in address_refusal([address], allow_private=False)


def test_one_private_address_among_public_ones_is_refused():
    assert address_refusal(["93.184.216.34", "10.0.0.1"], allow_private=False)
    assert address_refusal(["93.184.216.34", "2606:2800:220:1::"], allow_private=False) is None


def test_dev_and_tests_allow_private_addresses():
    assert address_refusal(["127.0.0.1"], allow_private=True) is None
    assert url_refusal("http://127.0.0.1:8080/", allow_private=True) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",  # a name resolving to loopback
        "https://[::1]/hook",
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data/",
        "http://93.184.216.34/hook",  # public, but not HTTPS
    ],
)
def test_registration_refuses_private_urls_in_production(db, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(WebhookError):
        services.endpoint_create(name="x", url=url, event_types=["booking.created"], actor=None)


def test_registration_accepts_a_public_https_url(db, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    endpoint = services.endpoint_create(
        name="CRM", url="https://93.184.216.34/hook", event_types=["booking.created"], actor=None
    )
    assert endpoint.secret.startswith("whsec_") and endpoint.is_active


@pytest.mark.parametrize(
    ("types", "said"), [([], "at least one"), (["booking.created", "nope"], "Unknown")]
)
def test_registration_refuses_bad_event_types(db, types, said):
    with pytest.raises(WebhookError, match=said):
        services.endpoint_create(
            name="x", url="https://93.184.216.34/", event_types=types, actor=None
        )
