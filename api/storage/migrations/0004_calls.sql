-- Phone calls (pipeline area): one row per media stream, written at start and completed at the end.
CREATE TABLE IF NOT EXISTS calls (
    call_sid TEXT PRIMARY KEY,
    stream_sid TEXT NOT NULL,
    direction TEXT NOT NULL,
    from_masked TEXT NOT NULL DEFAULT '',
    to_masked TEXT NOT NULL DEFAULT '',
    request_id TEXT,
    conversation_id TEXT NOT NULL,
    language TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    ended_by TEXT,
    reason TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT '{}',
    transcript TEXT NOT NULL DEFAULT '[]',
    turns TEXT NOT NULL DEFAULT '[]',
    recording TEXT
);
CREATE INDEX IF NOT EXISTS calls_started_at ON calls (started_at);
CREATE INDEX IF NOT EXISTS calls_request_id ON calls (request_id)
