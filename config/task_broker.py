"""The embedded task broker: kombu's filesystem transport, made safe to share between processes.

Kombu's own `_put` creates the message file and then writes it, and its `_get` takes any file in
the folder: a worker polling at the wrong moment takes an empty file, fails to decode it and stops
for good ("Unrecoverable error: JSONDecodeError"), and the message is gone (kombu issue #1551,
open). The lock kombu takes while writing is advisory, and `_get` moves the file without asking
for it. No kombu release fixes this, so the two methods are written here:

- a message is written to a hidden file in the same folder and renamed into place, which is
  atomic on one file system: a reader sees the whole message or none of it;
- a file that still cannot be decoded (a disk that filled up, a hand-edited file) is moved to
  `rejected/` beside the queue and logged as an error, and the worker goes on with the next.

Selected by `CELERY_BROKER_TRANSPORT` when `TASK_BROKER_URL` is `filesystem://`; production runs
Redis or RabbitMQ and never loads this module.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path
from time import monotonic_ns

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

logger = logging.getLogger(__name__)


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs) -> None:
        # kombu takes files in name order: the clock first, to the nanosecond (kombu's own names
        # have milliseconds, so messages queued within one were taken in random order).
        name = f"{monotonic_ns():020d}_{uuid.uuid4()}.{queue}.msg"
        folder = Path(self.data_folder_out)
        writing = folder / f".{name}.writing"
        try:
            with open(writing, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(writing, folder / name)
        except OSError as exc:
            writing.unlink(missing_ok=True)
            raise filesystem.ChannelError(f"Cannot add file {name!r} to {folder}") from exc

    def _get(self, queue):
        while True:
            try:
                return super()._get(queue)
            except json.JSONDecodeError as exc:
                # kombu has moved the file out of the queue and removed it already; what it
                # held is in the error.
                rejected = Path(self.data_folder_in).parent / "rejected"
                rejected.mkdir(exist_ok=True)
                kept = rejected / f"{uuid.uuid4()}.{queue}.msg"
                kept.write_text(exc.doc)
                logger.error(
                    "A task message in queue %r could not be read and was set aside in %s: %s",
                    queue,
                    kept,
                    exc,
                )


class Transport(filesystem.Transport):
    Channel = Channel
