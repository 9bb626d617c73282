-- Roles for a production database (the office's, or the collector's on its own host). Run as a
-- superuser, then run the migrations as survey_owner
-- (SURVEY_DATABASE_URL=postgresql+psycopg://survey_owner@.../survey survey db upgrade, or
-- survey-collector db upgrade on the collector) and the app as survey_app. Replace the passwords, or use peer / certificate authentication.
--
-- survey_owner owns the schema and runs migrations; survey_app reads and writes data but
-- cannot change or delete audit entries, nor drop the triggers that guard them.

CREATE ROLE survey_owner LOGIN PASSWORD 'change-me-owner';
CREATE ROLE survey_app LOGIN PASSWORD 'change-me-app';

-- After the migrations have created the tables (as survey_owner):
--   \i deploy/postgresql/grants.sql            (office)
--   \i deploy/postgresql/collector-grants.sql  (collector)
