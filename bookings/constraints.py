"""The database's own guard against double booking, on PostgreSQL only.

PostgreSQL enforces it with an exclusion constraint (GiST over machine and time range, thanks to
btree_gist). SQLite has no such constraint; there `booking_create` checks inside a transaction that
SQLite runs with BEGIN IMMEDIATE, so writers are serialized and the check cannot race.
"""

from __future__ import annotations

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import DEFAULT_DB_ALIAS, models


class TsTzRange(models.Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class PostgresExclusionConstraint(ExclusionConstraint):
    """An ExclusionConstraint that other databases skip, so the model migrates on SQLite too."""

    def constraint_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().remove_sql(model, schema_editor)

    def validate(self, model, instance, exclude=None, using=DEFAULT_DB_ALIAS):
        from django.db import connections

        if connections[using].vendor != "postgresql":
            return
        super().validate(model, instance, exclude=exclude, using=using)


# Django's CreateExtension already does nothing on databases other than PostgreSQL.
__all__ = ["BtreeGistExtension", "PostgresExclusionConstraint", "TsTzRange"]
