-- Migration versions applied by dbmate.
SELECT version FROM schema_migrations;
