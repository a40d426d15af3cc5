"""A caller who goes on talking before any of Lisa's answer reached them was not answered: the two parts are one
turn to the engine (the conversation is taken back to before her unheard answer), unless her answer already did
something outside the conversation or was heard. Lisa's processor in a real pipecat pipeline, the real rule
engine; the turns come as the turn detector sends them, and the TTS's first audio is stamped on the session."""

from __future__ import annotations

import time
from collections.abc import Iterator

from conftest import ManualClock
from doubles.conversations import rule_engine
from pipecat.frames.frames import Frame
from pipecat.processors.frame_processor import FrameDirection
from pipecat.tests.utils import SleepFrame, run_test
from test_rule_brain_outbound import CLOCK, dentist

from agent.conversation import Conversation
from pipelines.call_session import CallSession
from pipelines.frames import CallerTurnFrame, LisaSpeechFrame
from pipelines.lisa_processor import LisaProcessor
from pipelines.settings import VoiceSettings


async def _nothing(*_args: object) -> None:
    return None


class Lisa(LisaProcessor):
    """Lisa's processor with the TTS's part played at once: each sentence's first audio goes out to the caller
    as it is produced (stamped on the session), except for the replies in ``unplayed``."""

    def __init__(self, session: CallSession, unplayed: set[int] = frozenset()) -> None:
        engine = rule_engine(ManualClock(CLOCK))
        settings = VoiceSettings(_env_file=None)
        super().__init__(session, engine, settings, end_call=_nothing, transfer=_nothing, on_event=_nothing)
        self.unplayed = unplayed

    async def push_frame(self, frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM) -> None:
        if isinstance(frame, LisaSpeechFrame) and frame.reply not in self.unplayed:
            self._session.queue_utterance(frame.reply, frame.index, frame.text, 1.0)
            self._session.on_audio_sent(b"\0" * 160)
        await super().push_frame(frame, direction)


def _session() -> CallSession:
    conv = rule_engine(ManualClock(CLOCK)).new_conversation("outbound", "en", request=dentist())
    return CallSession("CA1", "MZ1", "outbound", {}, conv)


def _live(session: CallSession, *steps: str | float) -> Iterator[Frame]:
    """The caller's turns (text) and the pauses between them (seconds), each turn stamped as starting when it
    is sent (the session's clock), as the turn detector would."""
    for step in steps:
        if isinstance(step, float):
            yield SleepFrame(step)
            continue
        start_ms = (time.monotonic() - session.started_t) * 1000
        yield CallerTurnFrame(text=step, start_ms=start_ms, end_ms=start_ms + 200)


def _user_turns(conv: Conversation) -> list[str]:
    return [m.text for m in conv.history if m.role == "user"]


async def test_a_turn_that_goes_on_before_lisa_is_heard_is_answered_as_one():
    session = _session()
    # Lisa's answer to "Oh." (reply 2) is ready when the caller goes on, but none of it went out
    frames = _live(
        session, "Miller dental, hello?", 0.5, "Oh.", 0.3, "We've just moved into the new building.", 0.3
    )
    await run_test(Lisa(session, unplayed={2}), frames_to_send=frames)  # type: ignore[arg-type]  # made as sent
    conv = session.conversation
    assert _user_turns(conv) == [
        "Miller dental, hello?",
        "Oh. We've just moved into the new building.",
    ]
    assert conv.state["rule"]["misses"] == 1  # one unanswered turn, not two
    assert len(conv.lisa_lines()) == 2 and session.replies == 3


async def test_a_turn_after_lisa_was_heard_is_a_turn_of_its_own():
    session = _session()
    # Lisa's answer to "Oh." went out ~0.6 s before the caller spoke again
    frames = _live(
        session, "Miller dental, hello?", 0.5, "Oh.", 0.6, "We've just moved into the new building.", 0.3
    )
    await run_test(Lisa(session), frames_to_send=frames)  # type: ignore[arg-type]  # made as sent
    assert _user_turns(session.conversation)[1:] == [
        "Oh.",
        "We've just moved into the new building.",
    ]


async def test_an_answer_that_booked_is_not_taken_back():
    """Lisa's unheard answer confirmed a booking (an event): the caller's next words are a turn of their own."""
    session = _session()
    booked = "Next Monday at half past ten? Okay, I've put him down."
    frames = _live(session, "Miller dental, hello?", 0.5, booked, 0.3, "And the name?", 0.3)
    await run_test(Lisa(session, unplayed={2}), frames_to_send=frames)  # type: ignore[arg-type]  # made as sent
    conv = session.conversation
    assert str(conv.outcome.status) == "booked" and conv.events
    assert _user_turns(conv)[-1] == "And the name?"


async def test_a_turn_after_lisa_chose_silence_is_a_turn_of_its_own():
    """A queue message gets no answer (Lisa holds): the person who then picks up is answered, not merged with it."""
    session = _session()
    queue = "All of our staff are currently busy. Your call is important to us, please stay on the line."
    frames = _live(session, queue, 0.5, "Hello, Park vet, sorry for the wait.", 0.3)
    await run_test(Lisa(session), frames_to_send=frames)  # type: ignore[arg-type]  # made as sent
    conv = session.conversation
    assert _user_turns(conv) == [queue, "Hello, Park vet, sorry for the wait."]
    assert "I'm calling on behalf of Max Mustermann" in conv.lisa_lines()[-1]
