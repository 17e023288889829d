"""Toolgate's one settings module, driven by environment variables with safe defaults.

Defaults run a newcomer's demo: SQLite, console email, manual billing. Production sets DEBUG=0 and
must provide SECRET_KEY; see README "Deploying" for the full list.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production needs a long random SECRET_KEY; "
            "for local development set DEBUG=1 to use a development key."
        )
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SPACE_NAME = os.environ.get("SPACE_NAME", "Toolgate Makerspace")
# What the public pages tell visitors (the sites framework record follows SPACE_NAME and SITE_URL,
# core.apps sets it after every migrate, so emails name the space).
SPACE_ADDRESS = os.environ.get("SPACE_ADDRESS", "1200 Workshop Way, Oakland, CA 94607")
SPACE_HOURS = os.environ.get("SPACE_HOURS", "Weekdays 10:00 to 22:00, weekends 10:00 to 18:00")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "allauth",
    "allauth.account",
    # Single sign-on (docs/sso.md): OpenID Connect, shown only when SSO_OIDC_SERVER_URL is set.
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "django_htmx",
    "schedule",
    # Task results and failures in the database (staff see them on Background tasks).
    "django_celery_results",
    "core",
    "locations",
    "staffing",
    "membership",
    "training",
    "equipment",
    "bookings",
    "access",
    "metering",
    "console",
    "webhooks",
    "ninja",  # the API's interactive docs, served from its own static files (no CDN)
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before common (docs/i18n.md): the language from the switcher's cookie, else
    # Accept-Language, else LANGUAGE_CODE; addresses carry no language prefix.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in person's own language where this device has chosen none (core/languages.py).
    "core.languages.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "locations.zones.ZoneResetMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "membership.context_processors.toolgate",
                "locations.context_processors.chain",
                "equipment.context_processors.problem_reports",
            ],
            # One way to write dates and times on every page: |day |clock |moment |stamp.
            # And {% translate %} on every page without a {% load i18n %} (docs/i18n.md).
            "builtins": [
                "core.templatetags.when",
                "core.templatetags.pages",
                "django.templatetags.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers queue for the lock instead of failing at once; IMMEDIATE takes the write lock at
    # BEGIN so a check-then-insert inside a transaction is serialized (no double bookings). WAL
    # lets pages read while a booking commits; NORMAL syncs at checkpoints, not every commit (a
    # power cut may lose the last commits, never corrupt the file).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "membership.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    # Object permissions (django-rules): a role's permission at the object's location only
    # (staffing.permissions).
    "rules.permissions.ObjectPermissionBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
SITE_ID = 1

# django-allauth: email is the login, verified before first use; rate limits stay on.
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_ADAPTER = "membership.adapters.AccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "membership.forms.SignupExtraForm"
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SPACE_NAME}] "

# Single sign-on through any OpenID Connect provider (Keycloak, Authentik, Google Workspace,
# Microsoft Entra; docs/sso.md). Off unless SSO_OIDC_SERVER_URL (the issuer) is set. A person
# signing in whose provider vouches for an email (email_verified) that a Toolgate account has
# verified too is signed in to that account and the two are linked; anyone else gets a new account.
# SSO_ONLY turns password login, sign-up and password reset off: the provider is the only way in.
SSO_OIDC_SERVER_URL = os.environ.get("SSO_OIDC_SERVER_URL", "").rstrip("/")
SSO_OIDC_CLIENT_ID = os.environ.get("SSO_OIDC_CLIENT_ID", "")
SSO_OIDC_CLIENT_SECRET = os.environ.get("SSO_OIDC_CLIENT_SECRET", "")
SSO_OIDC_NAME = os.environ.get("SSO_OIDC_NAME", "Single sign-on")
SSO_ONLY = env_bool("SSO_ONLY", False)
if SSO_OIDC_SERVER_URL and not SSO_OIDC_CLIENT_ID:
    raise ImproperlyConfigured("SSO_OIDC_SERVER_URL is set but SSO_OIDC_CLIENT_ID is not.")
if SSO_ONLY and not SSO_OIDC_SERVER_URL:
    raise ImproperlyConfigured("SSO_ONLY needs a provider: set SSO_OIDC_SERVER_URL and its client.")


def sso_provider_apps(server_url: str, client_id: str, secret: str, name: str) -> list[dict]:
    """allauth's openid_connect apps for one provider at `server_url` (none when it is empty)."""
    if not server_url:
        return []
    return [
        {
            "provider_id": "sso",
            "name": name,
            "client_id": client_id,
            "secret": secret,
            "settings": {"server_url": server_url},
        }
    ]


SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": sso_provider_apps(
            SSO_OIDC_SERVER_URL, SSO_OIDC_CLIENT_ID, SSO_OIDC_CLIENT_SECRET, SSO_OIDC_NAME
        ),
    }
}
SOCIALACCOUNT_ADAPTER = "membership.adapters.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_REQUIRED = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_ONLY = SSO_ONLY
if SSO_ONLY:
    # Nobody has a password to verify an email with: the provider vouches for it.
    ACCOUNT_EMAIL_VERIFICATION = "none"
    SOCIALACCOUNT_EMAIL_VERIFICATION = "none"

CACHES = {
    "default": {
        "BACKEND": os.environ.get("CACHE_BACKEND", "django.core.cache.backends.locmem.LocMemCache"),
        "LOCATION": os.environ.get("CACHE_LOCATION", "toolgate"),
    }
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds before a silent mail server counts as down: the email task is then retried instead of
# holding a worker forever.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Toolgate <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The languages the site speaks (docs/i18n.md). English is the fallback for anything untranslated
# and for browsers that ask for neither. Catalogues: each app's <app>/locale, and locale/ for the
# project's templates/ and config/.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ko", "한국어")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The switcher's choice (django.views.i18n.set_language) outlives the session: a year.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
# The space's zone: everything is stored in UTC and shown in this zone.
TIME_ZONE = os.environ.get("TIME_ZONE", "America/Los_Angeles")
USE_I18N = True
USE_TZ = True
# Money (core/money.py, docs/billing.md): prices are shown in this locale's format (CLDR names:
# en_US, ko_KR, de_DE); new prices default to SPACE_CURRENCY (lowercase ISO 4217, as Stripe wants).
SPACE_LOCALE = os.environ.get("SPACE_LOCALE", "en_US")
SPACE_CURRENCY = os.environ.get("SPACE_CURRENCY", "usd").lower()

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Security: strict by default outside DEBUG; a TLS-terminating proxy sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Billing: Stripe when STRIPE_SECRET_KEY is set, otherwise manual billing (staff record payments at
# the desk; the demo's mode). Webhooks are refused unless STRIPE_WEBHOOK_SECRET is set.
# See docs/billing.md.
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
# Pinned to the version stripe-python 16.1.0 pins: payloads are parsed in this shape. Set the webhook
# endpoint in the Stripe dashboard to the same version; upgrade both together with the SDK.
STRIPE_API_VERSION = "2026-10-28.endive"
# A signed webhook older than this many seconds is refused as a replay.
STRIPE_WEBHOOK_TOLERANCE_SECONDS = int(os.environ.get("STRIPE_WEBHOOK_TOLERANCE_SECONDS", "300"))
# Class fees (docs/billing.md, "Class fees"): a paid seat cancelled at least this many hours before
# the class is refunded in full, later not at all (staff may refund anyway, with a reason).
CLASS_FEE_FULL_REFUND_HOURS = int(os.environ.get("CLASS_FEE_FULL_REFUND_HOURS", "48"))
# A member promoted off the waitlist of a paid class has this long to pay (online billing) before
# the seat passes on; never later than the class's start.
CLASS_FEE_PAY_BY_HOURS = int(os.environ.get("CLASS_FEE_PAY_BY_HOURS", "24"))
# Prepaid credits bought this many months ago and not spent expire (a ledger entry); 0: never.
CREDITS_EXPIRE_MONTHS = int(os.environ.get("CREDITS_EXPIRE_MONTHS", "0"))
# How far back `reconcile_billing` compares the ledger's payments, refunds and invoice items.
BILLING_RECONCILE_DAYS = int(os.environ.get("BILLING_RECONCILE_DAYS", "45"))
# Day passes (docs/billing.md, "Day passes") are sold for today or up to this many days ahead.
DAY_PASS_AHEAD_DAYS = int(os.environ.get("DAY_PASS_AHEAD_DAYS", "30"))
# Days a past-due membership keeps machine access after its paid period ends.
MEMBERSHIP_GRACE_DAYS = int(os.environ.get("MEMBERSHIP_GRACE_DAYS", "3"))

# Member card QR codes: how long a scanned card stays valid.
MEMBER_CARD_MAX_AGE_SECONDS = int(os.environ.get("MEMBER_CARD_MAX_AGE_SECONDS", "900"))

# Bookings: check-in opens this many minutes before a booking starts (the gate honours it too); a
# booking nobody checked in to is released as a no-show after the grace period; cancelling later
# than BOOKING_LATE_CANCEL_MINUTES before the start counts as a late cancellation; reminders go out
# BOOKING_REMINDER_MINUTES before the start (sent by `manage.py bookings_tick`).
BOOKING_CHECK_IN_OPENS_MINUTES = int(os.environ.get("BOOKING_CHECK_IN_OPENS_MINUTES", "10"))
BOOKING_NO_SHOW_GRACE_MINUTES = int(os.environ.get("BOOKING_NO_SHOW_GRACE_MINUTES", "15"))
BOOKING_LATE_CANCEL_MINUTES = int(os.environ.get("BOOKING_LATE_CANCEL_MINUTES", "120"))
BOOKING_REMINDER_MINUTES = int(os.environ.get("BOOKING_REMINDER_MINUTES", "60"))
# How long freed time is held for the member first on the machine's waitlist (never past its
# start); then the bookings tick offers it to the next one.
WAITLIST_OFFER_MINUTES = int(os.environ.get("WAITLIST_OFFER_MINUTES", "30"))
# The no-shows report flags members with at least this many no-shows and late cancellations
# in the weeks it shows.
REPORTS_MISSED_BOOKINGS_THRESHOLD = int(os.environ.get("REPORTS_MISSED_BOOKINGS_THRESHOLD", "3"))


# django-scheduler: its views, JSON API and feeds allow any logged-in user to edit any calendar by
# default. Toolgate routes none of them (members use our own booking pages); should anyone route
# them, only active staff pass these checks.
def _scheduler_staff_only(obj, user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


CHECK_EVENT_PERM_FUNC = _scheduler_staff_only
CHECK_OCCURRENCE_PERM_FUNC = _scheduler_staff_only
CHECK_CALENDAR_PERM_FUNC = _scheduler_staff_only
CALENDAR_VIEW_PERM = True

# Gates (access app): the MQTT broker the bridge and the site's pushes use.
GATE_BROKER_URL = os.environ.get("GATE_BROKER_URL", "mqtt://127.0.0.1:1883")
GATE_BROKER_CA_FILE = os.environ.get("GATE_BROKER_CA_FILE", "")
# Slugs of the locations that run their own Mosquitto, bridged to the central one (comma-separated;
# docs/locations.md, "Brokers at each location"). Their gates log in there, not at the centre.
GATE_LOCATION_BROKERS = [
    slug.strip() for slug in os.environ.get("GATE_LOCATION_BROKERS", "").split(",") if slug.strip()
]
# Instructors and maintainers switch a machine on without a booking for this long (rescan extends).
GATE_STAFF_GRANT_MINUTES = int(os.environ.get("GATE_STAFF_GRANT_MINUTES", "120"))
# The offline allow-list covers bookings this far ahead and is refreshed this often.
GATE_ALLOWLIST_HOURS = int(os.environ.get("GATE_ALLOWLIST_HOURS", "12"))
GATE_ALLOWLIST_REFRESH_SECONDS = int(os.environ.get("GATE_ALLOWLIST_REFRESH_SECONDS", "600"))
# Each allow-list build logs its decisions (every window, every refresh): the bridge keeps those
# entries this many days. Badge scans, web checks and offline decisions are kept for good.
GATE_ALLOWLIST_LOG_DAYS = int(os.environ.get("GATE_ALLOWLIST_LOG_DAYS", "30"))
# A gate with no heartbeat for this long is shown offline.
GATE_OFFLINE_AFTER_SECONDS = int(os.environ.get("GATE_OFFLINE_AFTER_SECONDS", "90"))
# How long the bridges keep re-sending a command or allow-list a gate has not acknowledged; past
# that it shows as not delivered (longer than any grant, so nothing it could change still runs).
GATE_OUTBOX_GIVE_UP_HOURS = int(os.environ.get("GATE_OUTBOX_GIVE_UP_HOURS", "24"))
# How often a bridge on SQLite looks for new outbox rows (PostgreSQL wakes it with NOTIFY).
GATE_OUTBOX_POLL_SECONDS = float(os.environ.get("GATE_OUTBOX_POLL_SECONDS", "0.1"))

# The task runner (Celery, docs/tasks.md): emails and periodic jobs run in a worker, never in a
# web request. Production points TASK_BROKER_URL at Redis (redis://127.0.0.1:6379/0) or RabbitMQ
# (amqp://user:pw@127.0.0.1:5672//). The default needs no service at all, for `make run`: kombu's
# filesystem transport, messages as files in var/tasks/ shared by the site and one local worker
# (polled once a second; one machine only, so not for production).
TASK_BROKER_URL = os.environ.get("TASK_BROKER_URL", "filesystem://")
TASK_STATE_DIR = Path(os.environ.get("TASK_STATE_DIR", BASE_DIR / "var" / "tasks"))
CELERY_BROKER_URL = TASK_BROKER_URL
if TASK_BROKER_URL.startswith("filesystem://"):
    # kombu's transport with whole-file writes: config/task_broker.py says why.
    CELERY_BROKER_TRANSPORT = "config.task_broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # One folder both ways: the site writes messages where the worker reads them.
        "data_folder_in": str(TASK_STATE_DIR / "queue"),
        "data_folder_out": str(TASK_STATE_DIR / "queue"),
        "control_folder": str(TASK_STATE_DIR / "control"),
    }
elif TASK_BROKER_URL.startswith(("redis://", "rediss://")):
    # Redis hands a task nobody acknowledged to another worker after this long: longer than the
    # longest wait before an email's retry (an hour), so a retry waiting in a worker is not run
    # twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task is acknowledged once it has run, not when a worker takes it: a worker killed mid-task
# leaves it queued for the next one (an email may then go twice; none is lost).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Every task's outcome, with the traceback of a failure, in the database (django-celery-results);
# beat's daily `celery.backend_cleanup` deletes outcomes older than TASK_RESULTS_KEPT_DAYS.
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True  # keep the task's name and arguments with its outcome
CELERY_RESULT_EXPIRES = timedelta(days=int(os.environ.get("TASK_RESULTS_KEPT_DAYS", "30")))
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_SERIALIZER = CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# What a task prints (the console email backend's emails in `make run`) is logged as INFO, not as
# Celery's default WARNING.
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"
# Email tasks live beside the code that writes each email; the worker imports them at start.
CELERY_IMPORTS = [
    "membership.billing.emails",
    "membership.billing.desk_emails",
    "training.notifications",
    "bookings.notifications",
    "equipment.notifications",
    "console.tasks",
    "webhooks.tasks",
]
# An email whose mail server refuses or cannot be reached is tried again this many times, after
# a random wait of up to TASK_EMAIL_RETRY_BACKOFF_SECONDS, then twice that, and so on (at most an
# hour), then recorded as failed (with its traceback, on Background tasks) and logged as an error.
TASK_EMAIL_MAX_RETRIES = int(os.environ.get("TASK_EMAIL_MAX_RETRIES", "8"))
TASK_EMAIL_RETRY_BACKOFF_SECONDS = int(os.environ.get("TASK_EMAIL_RETRY_BACKOFF_SECONDS", "60"))
# A card refund Toolgate decided is sent by the task runner; one Stripe could not take (no
# answer, its own error) is tried again after this long, doubled each time (at most an hour),
# this many times in all, then shown to staff as failed (docs/billing.md).
REFUND_MAX_TRIES = int(os.environ.get("REFUND_MAX_TRIES", "8"))
REFUND_RETRY_BACKOFF_SECONDS = int(os.environ.get("REFUND_RETRY_BACKOFF_SECONDS", "60"))
# A desk sale still awaiting its card payment (the member's confirmation, the bank's processing)
# this long after it was made is undone: the stock counted back, the seller emailed.
DESK_SALE_PAYMENT_MINUTES = int(os.environ.get("DESK_SALE_PAYMENT_MINUTES", "30"))
# The periodic jobs, run by `celery beat` (one beat per site). Each is idempotent, so a run missed
# while beat was down is simply caught up by the next one.
CELERY_BEAT_SCHEDULE = {
    "bookings-tick": {  # release no-shows, complete bookings, reminders, lapse waitlist offers
        "task": "bookings.tasks.bookings_tick",
        "schedule": timedelta(seconds=int(os.environ.get("BOOKINGS_TICK_SECONDS", "60"))),
    },
    "lapse-memberships": {  # grace period over: record the lapse, switch machines off
        "task": "membership.tasks.lapse_memberships",
        "schedule": timedelta(minutes=5),
    },
    "send-training-reminders": {  # certifications expiring soon, waitlist promotions not sent
        "task": "training.tasks.send_training_reminders",
        "schedule": crontab(minute=10),
    },
    "reconcile-billing": {  # repair drift from Stripe (missed webhooks); no-op in manual billing
        "task": "membership.tasks.reconcile_billing",
        "schedule": crontab(hour=3, minute=30),
    },
    "expire-credits": {  # prepaid credits past CREDITS_EXPIRE_MONTHS (a no-op when 0)
        "task": "membership.tasks.expire_credits",
        "schedule": crontab(hour=3, minute=10),
    },
    "release-class-fee-holds": {  # unpaid seats past their deadline go to the waitlist
        "task": "training.tasks.release_class_fee_holds",
        "schedule": timedelta(minutes=5),
    },
    "extend-class-series": {  # recurring classes' sessions up to 12 weeks ahead
        "task": "bookings.tasks.extend_class_series",
        "schedule": crontab(hour=2, minute=15),
    },
    "post-usage-charges": {  # machine time of months that are over, then Stripe invoice items
        "task": "metering.tasks.post_usage_charges",
        "schedule": crontab(minute=20),
    },
    "rollup-utilization": {  # the reports' booked and powered hours per machine
        "task": "console.tasks.rollup_utilization",
        "schedule": crontab(minute="*/15"),
    },
    "queue-stranded-tasks": {  # tasks the broker refused during an outage, queued again
        "task": "core.tasks.queue_stranded_tasks",
        "schedule": timedelta(minutes=1),
    },
    "prune-form-tokens": {  # forget one-time form tokens handled a week ago
        "task": "core.tasks.prune_form_tokens",
        "schedule": crontab(hour=4, minute=45),
    },
    "sweep-refunds": {  # card refunds whose (re)try is due; lost first tries
        "task": "membership.tasks.sweep_refunds",
        "schedule": timedelta(minutes=1),
    },
    "expire-desk-sales": {  # desk sales awaiting a card payment too long are undone
        "task": "membership.tasks.expire_desk_sales",
        "schedule": timedelta(minutes=5),
    },
    "webhooks-sweep": {  # deliveries whose task was lost; certifications expired with time
        "task": "webhooks.tasks.webhooks_sweep",
        "schedule": timedelta(minutes=1),
    },
}

# Webhooks out (docs/webhooks.md). Endpoint URLs must be HTTPS on public addresses, checked when
# staff register them and again (resolving the host) before every delivery: a URL reaching
# loopback or the private network is refused (server-side request forgery). Development and tests
# allow private addresses and plain HTTP, for receivers on this machine.
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", DEBUG)
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
# A failed delivery is tried again after this long, doubled after each failure, at most the max;
# an endpoint whose every delivery has failed for WEBHOOK_DISABLE_AFTER_HOURS is disabled and
# staff are emailed.
WEBHOOK_RETRY_BACKOFF_SECONDS = int(os.environ.get("WEBHOOK_RETRY_BACKOFF_SECONDS", "30"))
WEBHOOK_RETRY_MAX_SECONDS = int(os.environ.get("WEBHOOK_RETRY_MAX_SECONDS", "3600"))
WEBHOOK_DISABLE_AFTER_HOURS = int(os.environ.get("WEBHOOK_DISABLE_AFTER_HOURS", "24"))
# The REST API (docs/api.md): the key of stored credentials' HMAC (empty: derived from SECRET_KEY),
# a new credential's requests a minute, and the largest request body read.
API_TOKEN_HASH_KEY = os.environ.get("API_TOKEN_HASH_KEY", "")
API_RATE_LIMIT_PER_MINUTE = int(os.environ.get("API_RATE_LIMIT_PER_MINUTE", "60"))
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", "65536"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
