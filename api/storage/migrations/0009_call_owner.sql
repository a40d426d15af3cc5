-- Which app process serves a call (host:pid:process start:boot id) and when it last said so: a call whose
-- process is gone is closed by the others (api/call_sweeper.py) instead of staying "in progress" forever.
ALTER TABLE calls ADD COLUMN owner TEXT;
ALTER TABLE calls ADD COLUMN heartbeat_at TEXT;
CREATE INDEX IF NOT EXISTS calls_open ON calls (ended_at)
