"""The task runner: the one Celery app, configured from Django settings (names CELERY_*).

Workers and the scheduler run it: `celery -A config worker` and `celery -A config beat` (systemd
units in deploy/, `make run` starts both with the site). Each app's periodic jobs are in its
`tasks.py`; emails are tasks in the modules that write them (settings.CELERY_IMPORTS). See
docs/tasks.md.
"""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("toolgate")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_broker_folders(sender: Celery, **kwargs) -> None:
    """The embedded broker (kombu's filesystem transport) keeps messages in folders it expects to
    exist; made here, when the first process reads the configuration, so that the first email
    from a web request can never fail on a missing folder."""
    if sender.conf.broker_url.startswith("filesystem://"):
        for option in ("data_folder_in", "data_folder_out", "control_folder"):
            folder = sender.conf.broker_transport_options.get(option)
            if folder:
                Path(folder).mkdir(parents=True, exist_ok=True)
