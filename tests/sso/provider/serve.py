"""Run the test OpenID Connect provider: `python -m tests.sso.provider.serve PORT`.

Reads its clients and users as JSON from the environment (PROVIDER_SETUP), migrates a fresh
database, prints "ready" and serves until killed.
"""

from __future__ import annotations

import json
import os
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def main() -> None:
    port = int(sys.argv[1])
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.sso.provider.settings"
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    setup = json.loads(os.environ["PROVIDER_SETUP"])
    for client in setup["clients"]:
        Application.objects.create(
            client_id=client["client_id"],
            client_secret=client["client_secret"],
            hash_client_secret=True,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(client["redirect_uris"]),
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True,
            name=client["client_id"],
        )
    for user in setup["users"]:
        User.objects.create_user(
            username=user["username"],
            password=user["password"],
            email=user["email"],
            first_name=user.get("first_name", ""),
            last_name=user.get("last_name", ""),
        )
    server = make_server(
        "127.0.0.1", port, get_wsgi_application(), _ThreadingServer, handler_class=_Quiet
    )
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
