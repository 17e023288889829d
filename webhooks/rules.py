"""Which webhook URLs may be called: pure checks of a URL and of the addresses its host resolves to
(server-side request forgery: a staff-entered URL must not reach the site's own network)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit


def url_refusal(url: str, *, allow_private: bool) -> str | None:
    """Why `url` cannot be a webhook endpoint, or None. HTTPS only, unless private addresses are
    allowed (development and tests, whose receivers are plain HTTP on this machine)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "That is not a valid URL."
    schemes = {"https", "http"} if allow_private else {"https"}
    if parts.scheme not in schemes:
        return "The URL must start with https://."
    if not parts.hostname:
        return "The URL has no host name."
    if parts.username or parts.password:
        return "Put no user name or password in the URL; the signature proves who sends."
    if port == 0:
        return "That is not a valid port."
    return None


def address_refusal(addresses: Iterable[str], *, allow_private: bool) -> str | None:
    """Why a host resolving to `addresses` may not be called, or None: every address must be a
    public one (not loopback, private, link-local, multicast, reserved or unspecified)."""
    listed = list(addresses)
    if not listed:
        return "The host name does not resolve to any address."
    if allow_private:
        return None
    for text in listed:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            return (
                f"The host resolves to {address}, a loopback or private address; webhooks go "
                "only to public addresses."
            )
    return None
