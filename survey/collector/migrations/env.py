"""Alembic environment of the collector's tables (their own history and version table)."""

from alembic import context

from survey.collector.models import CollectorTable

target_metadata = CollectorTable.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:  # the alembic command line: the configured database
        from survey.db import make_engine
        from survey.settings import load_settings

        engine = make_engine(load_settings())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=context.config.get_main_option("version_table")
            or "alembic_version_collector",
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
