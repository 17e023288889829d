"""Allow-list versions: gates adopt only a higher version, so every build must out-version the last,
even after the site's database is restored from a backup."""

from __future__ import annotations

from access.allowlist import allowlist_build
from access.models import GateDevice
from tests.factories.access import GateDeviceFactory


def test_every_build_out_versions_the_last(scene):
    device = GateDeviceFactory(machine=scene.machine)
    versions = [allowlist_build(device).version for _ in range(3)]
    assert versions == sorted(set(versions))


def test_a_database_restored_from_a_backup_still_out_versions_what_gates_hold(scene):
    device = GateDeviceFactory(machine=scene.machine)
    held_by_the_gate = allowlist_build(device).version
    GateDevice.objects.filter(pk=device.pk).update(allowlist_version=0)  # last night's backup
    device.refresh_from_db()
    assert allowlist_build(device).version > held_by_the_gate
