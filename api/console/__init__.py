"""The operator console at ``/console``: sign-in, live counters and feed, calls, requests, chats, bookings."""
