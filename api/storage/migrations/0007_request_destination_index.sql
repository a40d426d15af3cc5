-- Outbound requests per destination number and day are counted (a rate limit that holds across workers).
CREATE INDEX IF NOT EXISTS requests_number_idx ON requests (number_to_call, created_at);
