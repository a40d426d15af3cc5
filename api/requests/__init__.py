"""Outbound booking requests (seed 002): API models, status flow, outcome stores, outbox, scheduling."""
