-- Chat sessions (REST sessions of seeds 000/001 and /ws chats of seed 003 are the same thing) and their messages.
CREATE TABLE IF NOT EXISTS chat_sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT,
    channel TEXT NOT NULL,
    language TEXT NOT NULL,
    status TEXT NOT NULL,
    metadata TEXT NOT NULL,
    conversation TEXT NOT NULL,
    outcome_status TEXT NOT NULL,
    outcome TEXT NOT NULL,
    taken_over_by TEXT,
    created_at TEXT NOT NULL,
    last_activity TEXT NOT NULL,
    ended_at TEXT,
    end_reason TEXT
);
CREATE INDEX IF NOT EXISTS chat_sessions_status_idx ON chat_sessions (status, last_activity);
CREATE INDEX IF NOT EXISTS chat_sessions_user_idx ON chat_sessions (user_id);
CREATE TABLE IF NOT EXISTS chat_messages (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    sender TEXT NOT NULL,
    user_id TEXT,
    user_name TEXT,
    content TEXT NOT NULL,
    created_at TEXT NOT NULL,
    metadata TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS chat_messages_session_seq_idx ON chat_messages (session_id, seq);
