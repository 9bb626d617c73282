"""Alembic environment of the office's tables: runs against the engine survey.db hands over."""

from alembic import context
from sqlmodel import SQLModel

import survey.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from survey.db import run_migrations

run_migrations(context, SQLModel.metadata)
