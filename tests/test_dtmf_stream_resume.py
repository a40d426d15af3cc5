"""Keys pressed through a carrier that restarts the media stream (Twilio: ``<Play digits>`` then
``<Connect><Stream>`` again with ``resume=1``): the stream that ends for it records nothing and tells no hook,
and the call's next stream carries on the same conversation (pipelines/call_pipeline.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from agent.conversation import Conversation, ConversationEvent, Language, Mode
from pipelines import call_pipeline
from pipelines.call_pipeline import MediaCall
from pipelines.call_session import CallSession
from pipelines.settings import VoiceSettings
from telephony.media_stream import Start, StreamTracker


class RestartingCarrier:
    """Records keys like Twilio's carrier and, like it, says the stream restarts after them."""

    name = "restarting"
    digits_restart_stream = True

    def __init__(self) -> None:
        self.digits: list[tuple[str, str]] = []

    async def send_digits(self, call_sid: str, digits: str) -> None:
        self.digits.append((call_sid, digits))


class Records:
    def __init__(self) -> None:
        self.ended: list[str] = []

    async def ended_(self, call_sid: str, **_: Any) -> None:
        self.ended.append(call_sid)


def _call(carrier: RestartingCarrier, records: Records, hooks: list[Any], **params: str) -> MediaCall:
    deps = SimpleNamespace(
        voice_settings=VoiceSettings(_env_file=None),
        carrier=carrier,
        call_records=SimpleNamespace(ended=records.ended_),
        call_hooks=hooks,
        engine=SimpleNamespace(toolbox=None),
    )
    start = Start(stream_sid="MZ1", call_sid="CA-menu", custom_parameters={"direction": "outbound", **params})
    return MediaCall(None, deps, start, StreamTracker())  # type: ignore[arg-type]


async def test_the_next_stream_takes_the_conversation_over() -> None:
    carrier, records = RestartingCarrier(), Records()
    hook_calls: list[str] = []

    class Hook:
        async def on_call_ended(self, *args: Any) -> None:
            hook_calls.append("ended")

    first = _call(carrier, records, [Hook()])
    conv = Conversation(Mode.OUTBOUND, Language.EN)
    conv.events.append(ConversationEvent("phone_menu", "Phone menu: pressed 1", datetime.now(UTC)))
    first.session = CallSession("CA-menu", "MZ1", "outbound", {}, conv)
    await first._send_digits("1")
    assert carrier.digits == [("CA-menu", "1")]
    first._end_soon("party", "stream stopped")  # Twilio ends the stream for the new TwiML
    await first.finalize()
    assert records.ended == [] and hook_calls == []  # nothing recorded or reported: the call goes on
    assert call_pipeline._SUSPENDED["CA-menu"][1] is conv

    plain = _call(carrier, records, [])
    assert plain._resumed() is None  # only a stream that says resume=1 takes it
    second = _call(carrier, records, [], resume="1")
    assert second._resumed() is conv
    assert "CA-menu" not in call_pipeline._SUSPENDED
