"""The LLM brain: any OpenAI-compatible chat-completions endpoint, streamed, with tool calls.

One turn = up to ``max_tool_rounds`` + 1 streamed requests: content deltas are yielded as they arrive (so
speech synthesis starts on the first sentence), tool-call deltas are accumulated and executed through the
turn's :class:`~agent.tools.Toolbox`, and the model is asked again with the results. Requests are retried
with exponential backoff and jitter on 429 (honouring ``Retry-After``), 408/409/5xx, timeouts and broken
connections as long as nothing has been said yet; after that a broken stream just ends the turn. When the
endpoint keeps failing, :class:`~agent.brain.BrainUnavailable` lets the engine hand over to the rule brain.
The API key is never logged nor put into an error message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import openai
from openai import AsyncOpenAI, AsyncStream
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from agent.brain import BrainUnavailable, TurnContext
from agent.conversation import Conversation, Mode
from agent.rate_limit import RateLimiter, shared_limiter

if TYPE_CHECKING:
    from agent.business import BusinessProfile
    from agent.clock import Clock
    from agent.settings import AgentSettings

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
ROUNDS_KEY = "llm_tool_rounds"  # conv.state: tool-call rounds of earlier turns, by user-message index
_RETRY_STATUSES = {408, 409, 429}
_OPENING_CUE = {
    Mode.INBOUND: "[The caller has just been connected. Open the call as instructed.]",
    Mode.OUTBOUND: "[The call has just been answered. Open the call as instructed.]",
    Mode.CHAT: "[The user has just opened the chat. Open the conversation as instructed.]",
}

SystemPrompt = Callable[[Conversation, "BusinessProfile", "Clock"], str]
SleepFn = Callable[[float], Awaitable[object]]


def _persona_prompt(conv: Conversation, business: BusinessProfile, clock: Clock) -> str:
    from agent import persona

    return persona.system_prompt(conv, business, clock)


def endpoint_host(base_url: str | None) -> str:
    """The host[:port] of an endpoint, without any credentials that might be embedded in the URL."""
    netloc = urlsplit(base_url or DEFAULT_BASE_URL).netloc
    return netloc.rsplit("@", 1)[-1] or (base_url or "?")


class _Failed(Exception):
    """One failed request; ``what`` is safe to log (no key, no response body)."""

    def __init__(self, what: str, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass
class _ToolCall:
    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass
class _Round:
    """What one streamed request produced."""

    content: str = ""
    calls: dict[int, _ToolCall] = field(default_factory=dict)


def _call_slot(result: _Round, index: int | None, call_id: str | None) -> int:
    """Which tool call a delta continues: by its index, or (endpoints that send none) by its id."""
    if index is not None:
        return index
    if call_id:
        for slot, call in result.calls.items():
            if call.id == call_id:
                return slot
        return max(result.calls, default=-1) + 1  # a new call
    return max(result.calls, default=0)  # a continuation of the latest call


def _retry_after(headers: Any) -> float | None:
    """Seconds from ``retry-after-ms`` / ``Retry-After`` (seconds or an HTTP date), if present."""
    if headers is None:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(raw).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _describe(exc: BaseException, timeout_s: float) -> tuple[str, bool, float | None]:
    """(safe description, retryable?, retry-after seconds) of an error from the endpoint."""
    if isinstance(exc, openai.APITimeoutError):
        return f"timeout after {timeout_s:g}s", True, None
    if isinstance(exc, openai.APIConnectionError):
        return "connection error", True, None
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        retry = status in _RETRY_STATUSES or status >= 500
        return f"status {status}", retry, _retry_after(exc.response.headers)
    if isinstance(exc, openai.APIError):
        return "error event in the stream", True, None
    if isinstance(exc, TimeoutError | OSError):
        return type(exc).__name__, True, None
    if isinstance(exc, ValueError):  # e.g. a chunk that is not JSON
        return "malformed response", True, None
    return type(exc).__name__, False, None


class LLMBrain:
    """Lisa's brain on an OpenAI-compatible chat-completions endpoint (streaming + tool calls)."""

    name = "llm"

    def __init__(
        self,
        *,
        model: str,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout_s: float = 15.0,
        max_retries: int = 3,
        limiter: RateLimiter | None = None,
        max_history_messages: int = 40,
        max_tool_rounds: int = 4,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 8.0,
        max_retry_after_s: float = 20.0,
        system_prompt: SystemPrompt | None = None,
        sleep: SleepFn = asyncio.sleep,
    ) -> None:
        if not api_key and not base_url:
            raise ValueError("the LLM brain needs OPENAI_API_KEY (or OPENAI_BASE_URL of a local endpoint)")
        self.model = model
        self.base_url = base_url or DEFAULT_BASE_URL
        self.host = endpoint_host(self.base_url)
        self._api_key = api_key or "no-key"  # local OpenAI-compatible servers often need none
        self.timeout_s = timeout_s
        self.max_retries = max(0, max_retries)
        self.limiter = limiter
        self.max_history_messages = max(2, max_history_messages)
        self.max_tool_rounds = max(0, max_tool_rounds)
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.max_retry_after_s = max_retry_after_s
        self.system_prompt = system_prompt or _persona_prompt
        self._sleep = sleep
        self._clients: dict[int, tuple[asyncio.AbstractEventLoop, AsyncOpenAI]] = {}

    def __repr__(self) -> str:  # never show the key
        return f"LLMBrain(model={self.model!r}, endpoint={self.host!r})"

    @classmethod
    def from_settings(cls, settings: AgentSettings, **overrides: Any) -> LLMBrain:
        api_key, endpoint, model = settings.llm_endpoint()  # OpenAI's, or Gemini's OpenAI-compatible one
        base_url = endpoint or DEFAULT_BASE_URL
        options: dict[str, Any] = {
            "model": model,
            "api_key": api_key,
            "base_url": endpoint,
            "timeout_s": settings.openai_timeout_s,
            "max_retries": settings.openai_max_retries,
            "limiter": shared_limiter(base_url, settings.openai_requests_per_minute),
            "max_history_messages": settings.openai_max_history_messages,
            "max_tool_rounds": settings.openai_max_tool_rounds,
            "backoff_base_s": settings.openai_backoff_base_s,
            "backoff_max_s": settings.openai_backoff_max_s,
            "max_retry_after_s": settings.openai_max_retry_after_s,
        }
        options.update(overrides)
        return cls(**options)

    # -- the client ---------------------------------------------------------------------------------

    def _client(self) -> AsyncOpenAI:
        """One client per event loop (its connection pool belongs to the loop it was made on)."""
        loop = asyncio.get_running_loop()
        entry = self._clients.get(id(loop))
        if entry is None or entry[0] is not loop:
            for key, (other, _) in list(self._clients.items()):
                if other.is_closed():
                    del self._clients[key]
            client = AsyncOpenAI(
                api_key=self._api_key, base_url=self.base_url, timeout=self.timeout_s, max_retries=0
            )
            entry = self._clients[id(loop)] = (loop, client)
        return entry[1]

    async def aclose(self) -> None:
        """Close the client of the running loop."""
        entry = self._clients.pop(id(asyncio.get_running_loop()), None)
        if entry is not None:
            await entry[1].close()

    # -- messages -----------------------------------------------------------------------------------

    def messages(self, conv: Conversation, ctx: TurnContext) -> list[dict[str, Any]]:
        """System prompt + the recent history (user/assistant) with the tool rounds of earlier turns."""
        rounds: dict[str, list[dict[str, Any]]] = conv.state.get(ROUNDS_KEY, {})
        indexed = [
            (index, m)
            for index, m in enumerate(conv.history)
            if m.role in ("user", "assistant", "manager") and m.text
        ]
        if len(indexed) > self.max_history_messages:
            indexed = indexed[-self.max_history_messages :]
            while len(indexed) > 1 and indexed[0][1].role != "user":
                indexed = indexed[1:]  # a cut window starts on a user turn
        out: list[dict[str, Any]] = [
            {"role": "system", "content": self.system_prompt(conv, ctx.business, ctx.clock)}
        ]
        out.extend(rounds.get("-1", []) if not indexed or indexed[0][0] == 0 else [])
        for index, message in indexed:
            if message.role == "user":
                out.append({"role": "user", "content": message.text})
                out.extend(rounds.get(str(index), []))
            elif message.role == "manager":  # a person of the business wrote in the chat (takeover)
                who = str(message.meta.get("manager") or "colleague")
                out.append({"role": "assistant", "content": f"[{who}, a colleague:] {message.text}"})
            else:
                out.append({"role": "assistant", "content": message.text})
        if not any(m["role"] == "user" for m in out):
            out.insert(1, {"role": "user", "content": _OPENING_CUE.get(conv.mode, _OPENING_CUE[Mode.CHAT])})
        return out

    @staticmethod
    def _turn_key(conv: Conversation) -> str:
        for index in range(len(conv.history) - 1, -1, -1):
            if conv.history[index].role == "user":
                return str(index)
        return "-1"

    # -- one turn -----------------------------------------------------------------------------------

    async def reply(self, conv: Conversation, user_text: str | None, ctx: TurnContext) -> AsyncIterator[str]:
        messages = self.messages(conv, ctx)
        schemas = ctx.tools.schemas()
        turn_key = self._turn_key(conv)
        said = ""  # everything yielded in this turn
        for round_no in range(self.max_tool_rounds + 1):
            last_round = round_no == self.max_tool_rounds
            result = _Round()
            attempt = 0
            while True:
                try:
                    async with aclosing(self._stream(messages, schemas, last_round, result)) as pieces:
                        async for piece in pieces:
                            if (
                                said
                                and not said[-1].isspace()
                                and not piece[:1].isspace()
                                and not result.content
                            ):
                                piece = " " + piece  # a new round's text after the last round's sentence
                            said += piece
                            result.content += piece
                            yield piece
                    break
                except _Failed as failure:
                    if said:
                        log.warning(
                            "LLM endpoint %s: %s mid-reply; ending the turn with what was said",
                            self.host,
                            failure.what,
                        )
                        return
                    if not failure.retryable:
                        raise BrainUnavailable(
                            f"LLM endpoint {self.host}: {failure.what} (not retried)"
                        ) from None
                    if attempt >= self.max_retries:
                        raise BrainUnavailable(
                            f"LLM endpoint {self.host}: {failure.what} after {attempt} retries"
                        ) from None
                    wait = failure.retry_after
                    if wait is not None and wait > self.max_retry_after_s:
                        raise BrainUnavailable(
                            f"LLM endpoint {self.host}: {failure.what} with Retry-After {wait:g}s "
                            f"(over {self.max_retry_after_s:g}s) after {attempt} retries"
                        ) from None
                    attempt += 1
                    delay = self._delay(attempt, wait)
                    if wait is not None and self.limiter is not None:
                        self.limiter.pause(wait)  # the other conversations on this endpoint wait too
                    log.warning(
                        "LLM endpoint %s: %s; retry %d/%d in %.2fs",
                        self.host,
                        failure.what,
                        attempt,
                        self.max_retries,
                        delay,
                    )
                    result = _Round()
                    await self._sleep(delay)
            if not result.calls or last_round:
                break  # (a model that still calls tools after tool_choice=none is not obeyed)
            exchange = await self._run_tools(result, round_no, ctx)
            messages.extend(exchange)
            conv.state.setdefault(ROUNDS_KEY, {}).setdefault(turn_key, []).extend(exchange)
            if said.strip() and (conv.end_requested or conv.transfer_to):
                break  # goodbye / "I'll put you through" is said and the channel acts now: no extra request
        if not said.strip():
            raise BrainUnavailable(f"LLM endpoint {self.host}: empty reply")

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:  # plus a little jitter, so queued conversations do not return in lockstep
            return retry_after + random.uniform(0, min(1.0, 0.05 + 0.1 * retry_after))
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2.0 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # exponential backoff, "equal jitter"

    async def _stream(
        self, messages: list[dict[str, Any]], schemas: list[dict[str, Any]], last_round: bool, result: _Round
    ) -> AsyncGenerator[str, None]:
        """One streamed request: yields content pieces, accumulates tool calls into ``result``."""
        if self.limiter is not None:
            waited = await self.limiter.acquire()
            if waited > 0:
                log.info("LLM endpoint %s: queued %.2fs by the requests-per-minute limit", self.host, waited)
        request: dict[str, Any] = {"model": self.model, "messages": messages, "stream": True}
        if schemas:
            request["tools"] = schemas
            if last_round:
                request["tool_choice"] = "none"
        stream = None
        try:
            # the request is plain JSON already: posted as is, without the SDK's per-request walk over every
            # message and tool schema (``chat.completions.create`` spends ~1 ms of event loop on it)
            stream = await self._client().post(
                "/chat/completions",
                body=request,
                cast_to=ChatCompletion,
                stream=True,
                stream_cls=AsyncStream[ChatCompletionChunk],
            )
            async for chunk in stream:
                for choice in chunk.choices or []:
                    if choice.index not in (0, None):
                        continue
                    delta = choice.delta
                    if delta is None:
                        continue
                    for tc in delta.tool_calls or []:
                        call = result.calls.setdefault(_call_slot(result, tc.index, tc.id), _ToolCall())
                        call.id = tc.id or call.id
                        if tc.function is not None:
                            call.name += tc.function.name or ""
                            call.arguments += tc.function.arguments or ""
                    if delta.content:
                        yield delta.content
        except (TimeoutError, openai.APIError, OSError, ValueError) as exc:
            raise _Failed(*_describe(exc, self.timeout_s)) from None
        finally:
            if stream is not None:
                await stream.close()

    async def _run_tools(self, result: _Round, round_no: int, ctx: TurnContext) -> list[dict[str, Any]]:
        """Execute the round's tool calls; returns the assistant tool-call message and the tool results."""
        calls = [result.calls[i] for i in sorted(result.calls)]
        for n, call in enumerate(calls):
            call.id = call.id or f"call_{round_no}_{n}"
        exchange: list[dict[str, Any]] = [
            {
                "role": "assistant",
                "content": result.content or None,
                "tool_calls": [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": c.arguments or "{}"},
                    }
                    for c in calls
                ],
            }
        ]
        for call in calls:
            output = await self._call_tool(call, ctx)
            exchange.append(
                {"role": "tool", "tool_call_id": call.id, "content": json.dumps(output, default=str)}
            )
        return exchange

    async def _call_tool(self, call: _ToolCall, ctx: TurnContext) -> dict[str, Any]:
        try:
            arguments = json.loads(call.arguments) if call.arguments.strip() else {}
        except json.JSONDecodeError:
            return {"ok": False, "error": "the arguments were not valid JSON"}
        if not isinstance(arguments, dict):
            return {"ok": False, "error": "the arguments must be a JSON object"}
        try:
            output = await ctx.tools.call(call.name, arguments)
        except Exception:  # the toolbox should not raise; a bug there must not end the call
            log.exception("tool %s failed", call.name)
            return {"ok": False, "error": f"the tool {call.name} failed"}
        return output if isinstance(output, dict) else {"result": output}
