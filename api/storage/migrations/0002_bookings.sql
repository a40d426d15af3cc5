-- Slots booked by inbound calls and chats (the business's own calendar).
CREATE TABLE IF NOT EXISTS bookings (
    id TEXT PRIMARY KEY,
    start_at TEXT NOT NULL,
    end_at TEXT NOT NULL,
    name TEXT NOT NULL,
    service TEXT NOT NULL,
    conversation_id TEXT,
    phone TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS bookings_start_idx ON bookings (start_at);
