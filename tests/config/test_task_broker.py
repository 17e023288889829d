"""The embedded task broker (config/task_broker.py): a worker polling the queue folder never
takes a message half-written, and a file it cannot read is set aside, not the end of the worker."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from queue import Empty

import pytest
from kombu import Connection

from config import task_broker

QUEUE = "emails"


@pytest.fixture
def channels(tmp_path) -> Iterator[tuple]:
    """A site's channel and a worker's, on one queue folder, as `make run` sets them."""
    options = {
        "data_folder_in": str(tmp_path / "queue"),
        "data_folder_out": str(tmp_path / "queue"),
        "control_folder": str(tmp_path / "control"),
    }
    (tmp_path / "queue").mkdir()
    (tmp_path / "control").mkdir()
    with (
        Connection(
            "filesystem://", transport=task_broker.Transport, transport_options=options
        ) as site,
        Connection(
            "filesystem://", transport=task_broker.Transport, transport_options=options
        ) as worker,
    ):
        yield site.default_channel, worker.default_channel


def test_the_settings_choose_this_transport_for_the_embedded_broker(settings):
    assert settings.TASK_BROKER_URL == "filesystem://"
    assert settings.CELERY_BROKER_TRANSPORT == "config.task_broker:Transport"


def test_a_worker_polling_while_a_message_is_written_does_not_take_it_half_written(
    channels, monkeypatch
):
    site, worker = channels
    seen_mid_write = []
    encode = task_broker.str_to_bytes

    def encode_while_the_worker_polls(text):
        try:
            seen_mid_write.append(worker._get(QUEUE))
        except Empty:
            seen_mid_write.append("nothing yet")
        return encode(text)

    monkeypatch.setattr(task_broker, "str_to_bytes", encode_while_the_worker_polls)
    site._put(QUEUE, {"body": "hello"})

    assert seen_mid_write == ["nothing yet"]
    assert worker._get(QUEUE) == {"body": "hello"}


def test_messages_are_taken_in_the_order_they_were_queued(channels):
    site, worker = channels
    for number in range(5):
        site._put(QUEUE, {"number": number})

    assert [worker._get(QUEUE)["number"] for _ in range(5)] == [0, 1, 2, 3, 4]


def test_an_unreadable_file_is_set_aside_and_logged_and_the_next_message_is_taken(
    channels, tmp_path, caplog
):
    site, worker = channels
    (tmp_path / "queue" / f"{0:020d}_broken.{QUEUE}.msg").write_text('{"body": "trunc')
    site._put(QUEUE, {"body": "next"})

    with caplog.at_level(logging.ERROR, logger="config.task_broker"):
        assert worker._get(QUEUE) == {"body": "next"}

    [kept] = (tmp_path / "rejected").iterdir()
    assert kept.read_text() == '{"body": "trunc'
    assert f"in queue {QUEUE!r} could not be read and was set aside in {kept}" in caplog.text


def test_a_missing_queue_folder_raises_the_brokers_error(channels):
    """What the site logs as "task broker unreachable" (core.tasks.QueuedOnCommit)."""
    site, _ = channels
    Path(site.data_folder_out).rmdir()

    with pytest.raises(task_broker.filesystem.ChannelError, match="Cannot add file"):
        site._put(QUEUE, {"body": "lost?"})
