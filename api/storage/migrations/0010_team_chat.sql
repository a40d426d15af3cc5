-- Team chat (issue 13, seed 004): accounts, tokens, one-time codes, and direct/group chats on the one chat model
-- (chat_sessions + chat_messages of migration 0003): a chat has a kind and participants.
CREATE TABLE IF NOT EXISTS team_users (
    id TEXT PRIMARY KEY,
    email TEXT,
    phone TEXT,
    name TEXT,
    password_hash TEXT,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS team_users_email_idx ON team_users (email);
CREATE UNIQUE INDEX IF NOT EXISTS team_users_phone_idx ON team_users (phone);
CREATE TABLE IF NOT EXISTS team_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES team_users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX IF NOT EXISTS team_refresh_tokens_family_idx ON team_refresh_tokens (family_id);
CREATE TABLE IF NOT EXISTS team_phone_codes (
    phone TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS team_sms_outbox (
    id TEXT PRIMARY KEY,
    phone TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS team_google_tokens (
    user_id TEXT PRIMARY KEY REFERENCES team_users (id) ON DELETE CASCADE,
    token_encrypted TEXT NOT NULL,
    google_email TEXT,
    scope TEXT,
    expires_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS team_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL
);
ALTER TABLE chat_sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'lisa';
ALTER TABLE chat_sessions ADD COLUMN name TEXT;
ALTER TABLE chat_sessions ADD COLUMN invite_code TEXT;
ALTER TABLE chat_sessions ADD COLUMN direct_key TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS chat_sessions_invite_code_idx ON chat_sessions (invite_code);
CREATE UNIQUE INDEX IF NOT EXISTS chat_sessions_direct_key_idx ON chat_sessions (direct_key);
CREATE TABLE IF NOT EXISTS chat_participants (
    chat_id TEXT NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    joined_at TEXT NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);
CREATE INDEX IF NOT EXISTS chat_participants_user_idx ON chat_participants (user_id);
