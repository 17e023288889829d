"""/api/v1/ (the API, its schema and docs) and the token and key pages."""

from __future__ import annotations

from django.urls import path, re_path

from api import views
from api.api import api
from api.http import conditional, unknown

app_name = "api"

urlpatterns = [
    path("v1/", conditional(api.urls)),
    # Anything else under v1/ is a JSON 404 too, not the site's HTML page.
    re_path(r"^v1/", unknown, name="unknown"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("keys/", views.keys, name="keys"),
    path("keys/<int:pk>/revoke/", views.key_revoke, name="key_revoke"),
]
