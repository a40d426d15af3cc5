-- Telephony: single-use tokens binding each media stream to a call this app placed or answered
-- (telephony/stream_tokens.py, only a SHA-256 of the token is stored), and the Twilio status callbacks
-- already applied (a replayed callback is answered 200 and applied once).
CREATE TABLE IF NOT EXISTS media_stream_tokens (
    token_hash TEXT PRIMARY KEY,
    direction TEXT NOT NULL,
    request_id TEXT NOT NULL DEFAULT '',
    call_sid TEXT NOT NULL DEFAULT '',
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX IF NOT EXISTS media_stream_tokens_expires_at ON media_stream_tokens (expires_at);
CREATE TABLE IF NOT EXISTS twilio_status_applied (
    call_sid TEXT NOT NULL,
    status_key TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (call_sid, status_key)
);
CREATE INDEX IF NOT EXISTS twilio_status_applied_at ON twilio_status_applied (applied_at)
