-- Privileges of the collector's application role, applied by the schema owner after each
-- `survey-collector db upgrade`. The collector reads, adds and updates (a code's used flag, an
-- answer's bundle number, the installed study); it never deletes.
GRANT USAGE ON SCHEMA public TO survey_app;
GRANT SELECT, INSERT, UPDATE ON collector_study, collector_code, collector_response,
    collector_bundle, collector_signer TO survey_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO survey_app;
-- Alembic's own bookkeeping belongs to the owner: the servers only read it (schema check).
GRANT SELECT ON alembic_version_collector TO survey_app;
