"""The embedded default, SQLite, is set up for a site that reads while it writes."""

import pytest
from django.db import connection

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the SQLite connection settings"
)


@pytest.mark.django_db
def test_pages_read_while_a_booking_commits_and_commits_sync_at_checkpoints():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 1  # NORMAL
