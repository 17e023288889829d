"""Test settings: the real settings module plus fast hashing and no HTTPS redirect."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SPACE_NAME", "Toolgate Makerspace")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks run where they are queued (at commit, for delay_on_commit) and their errors reach the test;
# tests of real workers (tests/core/test_task_workers.py) start their own with a broker of their own.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
# Those worker tests wait for the last retry of an email: two retries, after at most 1 s and 2 s.
TASK_EMAIL_MAX_RETRIES = 2
TASK_EMAIL_RETRY_BACKOFF_SECONDS = 1
# Webhook receivers in tests are plain HTTP servers on 127.0.0.1 (tests/webhooks); the refusal of
# private addresses is tested by turning this off.
WEBHOOK_ALLOW_PRIVATE_URLS = True
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not shared-cache memory: threads in tests (bridge, gate, races) then wait on
    # SQLite's busy timeout as in production instead of failing with "table is locked".
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"toolgate-test-{os.getpid()}.sqlite3")
    }
