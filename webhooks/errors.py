from core.errors import DomainError


class WebhookError(DomainError):
    """A webhook endpoint change the rules refuse (a private URL, no event types, ...)."""
