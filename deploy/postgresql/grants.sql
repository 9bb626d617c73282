-- Privileges of the application role, applied by the schema owner after each migration.
GRANT USAGE ON SCHEMA public TO survey_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO survey_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO survey_app;
-- The audit log is append-only for the application: it may read and add entries only.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_entry FROM survey_app;
-- Alembic's own bookkeeping belongs to the owner (the servers read it to check the schema).
REVOKE INSERT, UPDATE, DELETE ON alembic_version, alembic_version_collector FROM survey_app;
