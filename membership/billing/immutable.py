"""The database's own refusal to change or delete a ledger entry (the triggers of migration 0005_ledger).

PostgreSQL: a trigger raises on every UPDATE or DELETE of a row; TRUNCATE (`manage.py flush`, the
test database's reset) is not a row change and empties the table as before.

SQLite has no TRUNCATE: `flush` deletes row by row. Its triggers refuse UPDATE always and DELETE
unless `toolgate_ledger_sealed()` answers 0, which only happens inside `manage.py flush` (our
override of the command, membership/management/commands/flush.py). Toolgate registers the function
on each SQLite connection it opens; any other client (the sqlite3 shell) has no such function, so
its DELETE fails too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SEALED_FUNCTION = "toolgate_ledger_sealed"
_flushing = False


def sqlite_function_register(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver: the function the SQLite DELETE trigger asks."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SEALED_FUNCTION, 0, lambda: 0 if _flushing else 1)


@contextmanager
def flushing() -> Iterator[None]:
    """While the whole database is being emptied, SQLite's trigger lets the rows go."""
    global _flushing
    _flushing = True
    try:
        yield
    finally:
        _flushing = False
