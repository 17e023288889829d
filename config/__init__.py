"""Toolgate's project package: settings, URLs, WSGI/ASGI and the task runner.

The Celery app is loaded with Django (Celery's guide for Django), so that `delay_on_commit`
anywhere in the site uses it.
"""

from config.celery import app as celery_app

__all__ = ("celery_app",)
