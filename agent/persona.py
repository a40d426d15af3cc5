"""Lisa's system prompt for the LLM brain, built from the plain prompt files in ``prompts/``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from agent.business import DAY_NAMES, BusinessProfile
from agent.clock import Clock
from agent.conversation import Conversation, Mode

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


class _Placeholders(dict[str, str]):
    """Leaves unknown ``{placeholders}`` as they are instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@lru_cache(maxsize=32)
def prompt_file(lang: str, name: str) -> str:
    """The text of ``prompts/<lang>/<name>.md``."""
    return (PROMPTS_DIR / lang / f"{name}.md").read_text(encoding="utf-8").strip()


def _task_name(mode: Mode) -> str:
    return {Mode.INBOUND: "inbound", Mode.OUTBOUND: "outbound", Mode.CHAT: "chat"}[mode]


def placeholders(conv: Conversation, business: BusinessProfile, clock: Clock) -> dict[str, str]:
    """The values the prompt files may use."""
    lang = str(conv.language)
    now = business.local(clock.now())
    values = _Placeholders(
        now=now.strftime("%Y-%m-%d %H:%M"),
        weekday=DAY_NAMES.get(lang, DAY_NAMES["en"])[now.weekday()],
        timezone=business.timezone,
        business_name=business.name,
        business_facts=business.facts(lang),
        opening_hours=business.opening_hours_text(lang),
    )
    request = conv.request
    if request is not None:
        # the request brief only: no callback number, no address (those are given out only when needed)
        values.update(
            title=request.title.strip(),
            description=request.description.strip(),
            preferred_time=request.preferred_time.strip(),
            user_name=request.user_name or ("der Nutzer" if lang == "de" else "the user"),
        )
    return values


def system_prompt(conv: Conversation, business: BusinessProfile, clock: Clock) -> str:
    """Persona + the task of the conversation's mode + business facts / request brief + current time."""
    lang = str(conv.language)
    values = placeholders(conv, business, clock)
    parts = [prompt_file(lang, "persona"), prompt_file(lang, _task_name(conv.mode))]
    return "\n\n".join(part.format_map(values) for part in parts)
