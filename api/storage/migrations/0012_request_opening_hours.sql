-- A request may state the business's own opening hours (OpenStreetMap `opening_hours` syntax): its calls are
-- placed within them, in the callee's time zone. NULL: the default business hours (Mo-Fr 08:00-18:00).
ALTER TABLE requests ADD COLUMN opening_hours TEXT;
