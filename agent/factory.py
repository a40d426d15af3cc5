"""Build an engine from settings: the rule brain by default, the LLM brain when configured."""

from __future__ import annotations

from agent.business import load_business
from agent.calendar import Calendar
from agent.clock import Clock
from agent.engine import Engine
from agent.rule_brain import RuleBrain
from agent.settings import AgentSettings


def build_engine(
    settings: AgentSettings | None = None, calendar: Calendar | None = None, clock: Clock | None = None
) -> Engine:
    settings = settings or AgentSettings()
    clock = clock or Clock(settings.lisa_clock, settings.lisa_timezone)
    business = load_business(settings.lisa_business_profile)
    rule = RuleBrain()
    if settings.lisa_brain == "llm":
        from agent.llm_brain import LLMBrain

        brain = LLMBrain.from_settings(settings)
        return Engine(
            brain,
            business,
            clock,
            calendar,
            fallback=rule,
            max_input_chars=settings.lisa_max_input_chars,
            leave_voicemail=settings.lisa_leave_voicemail,
            brain_stall_s=settings.lisa_brain_stall_s,
        )
    return Engine(
        rule,
        business,
        clock,
        calendar,
        max_input_chars=settings.lisa_max_input_chars,
        leave_voicemail=settings.lisa_leave_voicemail,
    )
