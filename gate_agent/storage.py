"""Crash-safe file writes for the agent's state directory (power can be cut at any moment)."""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so a reader sees either the old or the new file, never half."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def append_durably(path: Path, line: bytes) -> None:
    """Append one line and fsync it before returning: the entry survives a power cut."""
    created = not path.exists()
    with path.open("ab") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())
    if created:
        fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Persist a directory entry (a new or renamed file) too, not only the file's contents."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
