"""Speech recognition biased with what the call is about, and the recognised words' confidence on their way to
the dialogue: the context built from the call, Whisper with and without it on the party's voice over a phone
line, words with confidences reaching ``Engine.respond`` in real calls (embedded Whisper and Deepgram's
protocol server), and Deepgram receiving the call's names as ``keyterm``."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
from call_support import app_stream
from doubles.call_hooks import RecordingHooks
from doubles.party_voice import party_speech, say_on_the_line
from fakes.deepgram_protocol_server import DeepgramProtocolServer

from agent.business import load_business
from agent.conversation import BookingRequest, Conversation, Language, Mode
from api.state import Overrides
from pipelines import inference, local_models
from pipelines.audio import pcm16_to_float
from pipelines.settings import VoiceSettings
from pipelines.stt_context import speech_context
from pipelines.turn_detector import cloud_words
from telephony.audio_codec import pcm16_to_ulaw, resample_pcm16, ulaw_to_pcm16

REQUEST = BookingRequest(
    request_id="req-ctx",
    user_id="user-ctx",
    title="Book an eye test",
    description="An eye test at the optician",
    callback_number="+4915100000001",
    number_to_call="+493055501830",
    preferred_time="Wednesday",
    user_profile={"username": "Nina Vogel"},
)


def outbound() -> Conversation:
    return Conversation(Mode.OUTBOUND, Language.EN, request=REQUEST)


def test_context_of_an_outbound_call_names_the_user_purpose_and_callee_once_heard():
    conv = outbound()
    before = speech_context(conv, load_business())
    assert "Nina Vogel" in before.prompt and "an eye test" in before.prompt
    assert before.terms == ("Nina Vogel",)
    assert "Parkside" not in before.prompt  # the inbound business is not the one called
    conv.slots["callee"] = "Optik Sommer"
    after = speech_context(conv, load_business())
    assert "Optik Sommer" in after.prompt and after.terms == ("Nina Vogel", "Optik Sommer")


@pytest.mark.parametrize("language", [Language.EN, Language.DE])
def test_context_of_an_inbound_call_names_the_business_and_its_services(language):
    business = load_business()
    context = speech_context(Conversation(Mode.INBOUND, language), business)
    assert context.terms[0] == business.name and business.name in context.prompt
    labels = [s.label(str(language)) for s in business.services]
    assert set(labels) <= set(context.terms)
    assert all(label in context.prompt for label in labels)


def test_context_without_a_request_or_business_is_harmless():
    context = speech_context(Conversation(Mode.OUTBOUND, Language.EN), None)
    assert context.terms == () and context.prompt.strip(" .") == ""


def test_only_an_unsure_word_a_name_could_be_makes_whisper_decode_again_with_the_context():
    sure = (("So", 0.9), ("that's", 0.95), ("for", 0.92), ("Nina", 0.97), ("Vogel", 0.98))
    assert not local_models.wants_context(sure)
    assert local_models.wants_context((("So", 0.9), ("nina", 0.36), ("vodial", 0.24)))
    assert not local_models.wants_context((("and", 0.21), ("the", 0.45), ("name", 0.99)))  # a doubtful "and"
    assert not local_models.wants_context(())


def _phone_line(text: str) -> np.ndarray:
    """The party's voice as a call carries it: 8 kHz μ-law, then 16 kHz float as the pipeline takes it."""
    pcm = ulaw_to_pcm16(pcm16_to_ulaw(party_speech(text)))
    return pcm16_to_float(resample_pcm16(pcm, 8000, 16000))


@pytest.mark.voice
def test_the_context_prompt_gets_a_rare_name_right_and_its_words_are_sure():
    conv = outbound()
    conv.slots["callee"] = "Optik Sommer"
    prompt = speech_context(conv).prompt
    assert 5 < local_models.context_token_count(prompt) <= local_models.MAX_CONTEXT_TOKENS
    audio = _phone_line("So that's for Nina Vogel, right?")
    plain = local_models.recognise_short(audio)
    biased = local_models.recognise_short(audio, prompt)
    assert "Nina Vogel" in biased.text, biased
    assert "Vogel" not in plain.text, plain  # tiny.en alone mishears it ("nina vodial")
    confidence = dict(biased.words)
    assert confidence["Nina"] >= 0.8 and confidence["Vogel"] >= 0.8, biased.words
    # the plain transcript's misheard name is flagged by its confidence (what the brain confirms)
    misheard = [p for w, p in plain.words if w.lower() not in {"so", "that's", "for", "right"}]
    assert misheard and max(misheard) < 0.6, plain.words
    # the words are the transcript's words, in order, with probabilities
    assert [w for w, _ in biased.words] == [w.strip(",.?") for w in biased.text.split()]
    assert all(0.0 < p <= 1.0 for _, p in biased.words)


@pytest.mark.voice
def test_a_long_context_is_cut_to_the_token_budget_at_a_word():
    long = "Lisa calling for " + ", ".join(f"Person{i} Surname{i}" for i in range(40))
    count = local_models.context_token_count(long)
    assert 10 < count <= local_models.MAX_CONTEXT_TOKENS + 1  # + <|startofprev|>
    heard = local_models.recognise_short(_phone_line("Wednesday at two pm is free."), long)
    assert "Wednesday" in heard.text and "Person" not in heard.text


def test_cloud_words_reads_deepgram_results_as_objects_or_dicts():
    result = {
        "channel": {
            "alternatives": [
                {
                    "transcript": "Joe Park.",
                    "confidence": 0.66,
                    "words": [
                        {
                            "word": "joe",
                            "punctuated_word": "Joe",
                            "confidence": 0.91,
                            "start": 0.1,
                            "end": 0.4,
                        },
                        {
                            "word": "park",
                            "punctuated_word": "Park.",
                            "confidence": 0.42,
                            "start": 0.4,
                            "end": 0.8,
                        },
                    ],
                }
            ]
        }
    }
    assert cloud_words(result) == [("Joe", 0.91), ("Park", 0.42)]
    from deepgram.listen.v1.types import ListenV1Results

    assert cloud_words(ListenV1Results.model_validate(result | _RESULT_FIELDS)) == [
        ("Joe", 0.91),
        ("Park", 0.42),
    ]
    assert cloud_words(None) == [] and cloud_words({"channel": {"alternatives": []}}) == []


_RESULT_FIELDS = {
    "type": "Results",
    "channel_index": [0, 1],
    "duration": 1.0,
    "start": 0.0,
    "is_final": True,
    "metadata": {
        "request_id": "r",
        "model_info": {"name": "n", "version": "v", "arch": "a"},
        "model_uuid": "u",
    },
}


def user_words(hooks: RecordingHooks) -> list[list[list[Any]]]:
    """The words with confidences (``meta["words"]``) of each user message of the one call that ended."""
    (result,) = hooks.ended.values()
    return [m.meta.get("words") for m in result.conversation.history if m.role == "user"]


@pytest.mark.voice
@pytest.mark.timeout(120)
async def test_local_call_biases_whisper_with_the_business_and_hands_word_confidences_to_the_engine(
    app_server, monkeypatch
):
    hooks = RecordingHooks()
    overrides = Overrides(voice_settings=VoiceSettings(_env_file=None), call_hooks=[hooks])
    server = await app_server(overrides=overrides)
    contexts: list[str] = []
    real = inference.transcribe

    async def transcribe(pcm_8k: bytes, context: str = "") -> local_models.Recognised:
        contexts.append(context)
        return await real(pcm_8k, context)

    monkeypatch.setattr(inference, "transcribe", transcribe)
    line = "Hi, I would like to book a massage on Wednesday at three in the afternoon."
    async with app_stream(server) as call:
        await call.wait_lisa_speaking(10)
        await call.wait_lisa_done(20, new_utterance=False, settle=1.0)
        await say_on_the_line(call, line)
        await call.wait_lisa_speaking(20, after_ms=call.audio_sends[-1][1])
        await call.wait_lisa_done(25, new_utterance=False, settle=0.8)
        await call.stop()
    for _ in range(100):
        if hooks.ended:
            break
        await asyncio.sleep(0.1)
    business = server.state.engine.business
    end_of_turn = [c for c in contexts if c]
    assert end_of_turn and all(business.name in c and "massage" in c for c in end_of_turn), contexts
    (words,) = user_words(hooks)
    assert words, "the engine got no words"
    heard = [w.lower() for w, _ in words]
    assert "massage" in heard and "wednesday" in heard, words
    assert all(0.0 < p <= 1.0 for _, p in words)
    assert min(p for w, p in words if w.lower() in {"massage", "wednesday"}) >= 0.6, words


@pytest.mark.voice
@pytest.mark.timeout(120)
async def test_deepgram_gets_the_call_names_as_keyterms_and_its_word_confidences_reach_the_engine(app_server):
    deepgram = DeepgramProtocolServer(api_key="dg-test-key", confidences={"park": 0.41})
    deepgram.script("My name is Joe Park.")
    async with deepgram:
        voice = VoiceSettings(
            _env_file=None,
            lisa_stt="deepgram",
            deepgram_api_key="dg-test-key",
            deepgram_base_url=deepgram.url,
        )
        hooks = RecordingHooks()
        server = await app_server(overrides=Overrides(voice_settings=voice, call_hooks=[hooks]))
        async with app_stream(server) as call:
            await call.wait_lisa_speaking(10)
            await call.wait_lisa_done(20, new_utterance=False, settle=1.0)
            await say_on_the_line(call, "My name is Joe Park.")
            await call.wait_lisa_speaking(20, after_ms=call.audio_sends[-1][1])
            await call.wait_lisa_done(25, new_utterance=False, settle=0.8)
            await call.stop()
        for _ in range(100):
            if hooks.ended:
                break
            await asyncio.sleep(0.1)
    (listen,) = deepgram.sessions
    business = server.state.engine.business
    keyterms = listen.query.get("keyterm", [])
    assert business.name in keyterms and {s.label("en") for s in business.services} <= set(keyterms), keyterms
    assert "keywords" not in listen.query  # Nova-3 takes keyterm; keywords is for older models
    assert listen.finals == ["My name is Joe Park."]
    (words,) = user_words(hooks)
    assert words == [["My", 0.98], ["name", 0.98], ["is", 0.98], ["Joe", 0.98], ["Park", 0.41]]
