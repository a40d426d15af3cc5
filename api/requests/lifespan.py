"""The outbound requests area's lifespan: the request processor (scheduler included), its outbox to
Supabase when that is the outcome store, and its place in the calls' hooks and the call status bus
(:class:`api.state.Requests`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from api.requests.business_hours import BusinessHours
from api.requests.outbox import Outbox
from api.requests.processor import RequestProcessor
from api.requests.settings import RequestSettings
from api.requests.store import RequestStore
from api.state import Calls, Core, Overrides, Requests, Telephony


@asynccontextmanager
async def requests_lifespan(
    core: Core, telephony: Telephony, calls: Calls, overrides: Overrides
) -> AsyncIterator[Requests]:
    """Start the processor (and the outbox); it hears every call (a hook) and every call status."""
    settings = overrides.request_settings or RequestSettings()
    api = core.settings
    remote = None
    if api.supabase_url and api.supabase_service_key:
        from api.requests.supabase_store import SupabaseOutcomeStore

        remote = SupabaseOutcomeStore(api.supabase_url, api.supabase_service_key, settings.supabase_timeout_s)
    store = RequestStore(core.db, remote=remote is not None)
    outbox = (
        Outbox(store, remote, settings.outbox_retry_s, settings.outbox_max_rejections) if remote else None
    )
    processor = RequestProcessor(
        settings,
        store,
        BusinessHours.from_settings(settings),
        clock=core.engine.clock,
        carrier=telephony.carrier,
        business=core.engine.business,
        voice_settings=calls.voice_settings,
        end_live_call=calls.end_live_call,
        on_change=outbox.poke if outbox else None,
    )
    calls.hooks.append(processor)
    telephony.statuses.add(processor.on_call_status)
    if outbox:
        outbox.start()
    processor.start()
    try:
        yield Requests(processor, outbox, overrides.request_lookup or processor.lookup)
    finally:
        await processor.stop()
        if outbox:
            await outbox.stop()
