"""Alembic environment of the collector's tables (their own history and version table)."""

from alembic import context

from survey.collector.models import CollectorTable
from survey.db import run_migrations

run_migrations(context, CollectorTable.metadata)
