-- A token written anew with every write of a Lisa chat session: a server keeps the live conversation of a
-- chat between turns and reads it again only when another process wrote in between (api/chat/store.py).
ALTER TABLE chat_sessions ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
