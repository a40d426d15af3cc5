-- Key/value facts about this installation (e.g. the schema's origin). Area tables come in later migrations.
CREATE TABLE IF NOT EXISTS app_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
