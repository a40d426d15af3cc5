"""Settings of the phone-call voice pipeline (environment variables and `.env`)."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class VoiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    lisa_stt: Literal["local", "deepgram"] = "local"
    lisa_tts: Literal["local", "elevenlabs"] = "local"
    deepgram_api_key: SecretStr | None = None
    deepgram_base_url: str | None = None  # e.g. ws://127.0.0.1:9100 (a local protocol server)
    elevenlabs_api_key: SecretStr | None = None
    elevenlabs_voice_id: str = "21m00Tcm4TlvDq8ikWAM"
    elevenlabs_base_url: str | None = None  # e.g. ws://127.0.0.1:9200
    lisa_tts_stall_s: float = 1.0  # cloud TTS: no audio this long after a sentence → Piper takes the call

    # silence that ends a turn (pipelines/turn_detector.py; tuned with bench/turn_taking.py):
    lisa_turn_fast_stop_s: float = 0.16  # a finished sentence of 3+ words Whisper was sure of, not spelling;
    # calls a caller makes to the business only (Lisa's own calls take the sure stop: README, "Turn-taking")
    lisa_turn_sure_stop_s: float = 0.4  # a shorter one ("Yes." "That's all." often lead into more)
    lisa_turn_sure_closing: float = 0.5  # below this probability of . ? ! after the last word: unsure
    lisa_turn_text_stop_s: float = 0.7  # a finished sentence Whisper was unsure of
    lisa_vad_stop_s: float = 0.32  # no finished sentence, smart turn calls the turn finished
    lisa_turn_max_silence_s: float = 1.0  # anything else (smart turn says "incomplete", digits, "and")
    lisa_min_interrupt_words: int = 2  # words the caller must say over Lisa to interrupt her
    lisa_idle_reprompt_s: float = 8.0  # caller silence before "Are you still there?" (second time: goodbye)
    lisa_max_call_s: float = 600.0  # calls are ended politely after this long
    lisa_hold_max_s: float = (
        300.0  # outbound: on hold (music, queue, silence) this long → she gives up politely
    )
    lisa_beep_wait_s: float = 4.0  # outbound: after a mailbox greeting, how long Lisa waits for its beep
    lisa_voice_threads: int = 2  # worker threads for local STT/TTS inference shared by all calls
    lisa_tts_cache_phrases: int = (
        256  # Piper audio of this many of Lisa's phrases kept (~50 KB each; 0: none)
    )
    lisa_recording_dir: str | None = None  # when set: a WAV of both sides per call (caller left, Lisa right)
