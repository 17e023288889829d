"""pytest plugin for `make mutation`: one migrated SQLite test database, copied for each mutant.

mutmut runs every mutant's tests in a child forked from one process whose Django settings are
already loaded, so all children would name the same test database file (tests/settings.py names
it after the process id), and each would migrate a fresh one (2-3 s). Instead the first process
keeps its migrated database (`--reuse-db`) and each child works on a copy of its own.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

_TEMPLATE = "TOOLGATE_MUTATION_DB"
_OWNER = "TOOLGATE_MUTATION_DB_OWNER"
_copy: Path | None = None


def pytest_configure(config) -> None:
    global _copy
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        return
    test = database.setdefault("TEST", {})
    template = Path(os.environ.setdefault(_TEMPLATE, test["NAME"]))
    if os.environ.setdefault(_OWNER, str(os.getpid())) == str(os.getpid()):
        test["NAME"] = str(template)
        return
    _copy = template.with_name(f"{template.stem}-{os.getpid()}{template.suffix}")
    if template.exists():
        shutil.copyfile(template, _copy)
    test["NAME"] = str(_copy)


def pytest_unconfigure(config) -> None:
    if _copy is not None:
        _copy.unlink(missing_ok=True)
