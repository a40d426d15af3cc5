-- Rate limits shared by every worker and instance on one database: hits per client key and one-minute window.
CREATE TABLE IF NOT EXISTS rate_limit_hits (
    key TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX IF NOT EXISTS rate_limit_hits_window_idx ON rate_limit_hits (window_start);
