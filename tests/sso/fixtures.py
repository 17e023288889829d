"""A real OpenID Connect provider for the single sign-on tests, in its own process and port, and
the site's settings pointing at it (imported by tests/sso/conftest.py and tests/browser/test_sso.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.sso.provider import CONFUSED_CLIENT

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID, CLIENT_SECRET = "toolgate", "toolgate-client-secret"
PASSWORD = "provider-password-1"
USERS = [
    {"username": "ada", "email": "ada@example.org", "first_name": "Ada", "last_name": "Lovelace"},
    {
        "username": "grace",
        "email": "grace@example.org",
        "first_name": "Grace",
        "last_name": "Hopper",
    },
    {
        "username": "mallory",
        "email": "staff@example.org",
        "first_name": "M",
        "last_name": "Unverified",
    },
]


@dataclass(frozen=True)
class Provider:
    url: str  # the issuer: discovery is at url + "/.well-known/openid-configuration"

    @property
    def origin(self) -> str:
        return self.url.removesuffix("/o")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def provider(live_server):
    """The provider, knowing Toolgate's client (redirects to the live server and to the test
    client's host) and a client whose ID tokens name another audience."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    callbacks = [
        f"{origin}/accounts/oidc/sso/login/callback/"
        for origin in (live_server.url, "http://testserver")
    ]
    setup = {
        "clients": [
            {"client_id": c, "client_secret": CLIENT_SECRET, "redirect_uris": callbacks}
            for c in (CLIENT_ID, CONFUSED_CLIENT)
        ],
        "users": [user | {"password": PASSWORD} for user in USERS],
    }
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        env = os.environ | {
            "PROVIDER_DB": str(Path(folder) / "provider.sqlite3"),
            "PROVIDER_RSA_KEY": pem,
            "PROVIDER_SETUP": json.dumps(setup),
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "tests.sso.provider.serve", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            line = process.stdout.readline()
            if line.strip() != "ready":
                pytest.fail(f"The test OpenID Connect provider did not start: {line!r}")
            yield Provider(url=f"http://127.0.0.1:{port}/o")
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture
def sso(settings, provider):
    """The site configured as SSO_OIDC_* would: one provider named "Makerspace ID"."""
    from config.settings import sso_provider_apps

    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "OAUTH_PKCE_ENABLED": True,
            "APPS": sso_provider_apps(provider.url, CLIENT_ID, CLIENT_SECRET, "Makerspace ID"),
        }
    }
    return provider
