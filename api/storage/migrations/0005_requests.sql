-- Outbound booking requests (seed 002): the requests, their events, due call jobs and the Supabase outbox.
-- `requests` / `request_events` mirror Supabase's `requests` / `events` (supabase/migrations/).
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    callback_number TEXT NOT NULL,
    number_to_call TEXT,
    preferred_time TEXT NOT NULL,
    user_profile TEXT NOT NULL,
    language TEXT NOT NULL,
    status TEXT NOT NULL,
    summary TEXT,
    appointment TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    call_sid TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_user_idx ON requests (user_id, created_at);
CREATE INDEX IF NOT EXISTS requests_status_idx ON requests (status);
CREATE TABLE IF NOT EXISTS request_events (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    type TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS request_events_request_idx ON request_events (request_id, seq);
-- One row per call to place, claimed atomically (UPDATE ... WHERE claimed_by IS NULL) by one instance.
CREATE TABLE IF NOT EXISTS request_jobs (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    due_at TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    call_sid TEXT,
    claimed_by TEXT,
    claimed_at TEXT,
    done_at TEXT,
    result TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS request_jobs_due_idx ON request_jobs (done_at, due_at);
CREATE INDEX IF NOT EXISTS request_jobs_request_idx ON request_jobs (request_id);
-- Changes for the remote outcome store (Supabase), delivered in `seq` order once it is reachable.
CREATE TABLE IF NOT EXISTS request_outbox (
    id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    op TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT
);
CREATE INDEX IF NOT EXISTS request_outbox_pending_idx ON request_outbox (delivered_at, seq);
