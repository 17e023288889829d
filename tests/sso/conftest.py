"""Fixtures of the single sign-on tests: the provider process and the settings to use it."""

from tests.sso.fixtures import provider, sso  # noqa: F401
