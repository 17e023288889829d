"""The test OpenID Connect provider (settings, claims, server); see serve.py."""

# A client the provider gives ID tokens for another audience (the wrong-audience test).
CONFUSED_CLIENT = "confused-client"
