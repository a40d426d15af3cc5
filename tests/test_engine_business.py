"""The business profile (prompts/business.yaml) and the persona prompts built from prompts/."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from conftest import ManualClock

from agent.business import BusinessProfileError, load_business
from agent.conversation import BookingRequest, Conversation, Language, Mode
from agent.persona import PROMPTS_DIR, system_prompt


@pytest.fixture
def business():
    return load_business()


def test_default_profile(business):
    assert business.name == "Parkside Physiotherapy"
    assert business.timezone == "Europe/Berlin" and business.transfer_number
    assert business.hours_on(0) == (time(8), time(18)) and business.hours_on(4) == (time(8), time(18))
    assert business.hours_on(5) is None and business.hours_on(6) is None
    assert business.default_service.key == "appointment" and business.default_service.minutes == 30


def test_is_open(business):
    assert business.is_open(datetime(2026, 11, 23, 8, 0))
    assert business.is_open(datetime(2026, 11, 23, 17, 59))
    assert not business.is_open(datetime(2026, 11, 23, 18, 0))
    assert not business.is_open(datetime(2026, 11, 28, 10, 0))  # Saturday
    assert not business.is_open(datetime(2026, 12, 25, 10, 0))  # Christmas Day, a Friday
    assert business.is_open(datetime.fromisoformat("2026-11-23T07:30:00+00:00"))  # 08:30 in Berlin


def test_opening_hours_text(business):
    assert business.opening_hours_text("en") == (
        "We're open Monday to Friday from 8 am to 6 pm; closed on Saturday and Sunday."
    )
    assert business.opening_hours_text("de") == (
        "Wir haben Montag bis Freitag von 8 bis 18 Uhr geöffnet, Samstag und Sonntag ist geschlossen."
    )
    assert (
        business.day_hours_text(date(2026, 12, 25), "de")
        == "Am Freitag (Erster Weihnachtstag) haben wir geschlossen."
    )


def test_service_for_and_faq(business):
    assert business.service_for("I'd like a massage please").key == "massage"
    assert business.service_for("Erstuntersuchung, ich bin neu").key == "assessment"
    assert business.service_for("an appointment").key == "appointment"
    assert business.service_for(None).key == "appointment"
    assert business.find_service("hello there") is None
    assert "Parkstraße 12" in business.faq_answer("What's your address?", "en")
    assert "barrierefrei" in business.faq_answer("Haben Sie einen Aufzug?", "de")
    assert business.faq_answer("what is the meaning of life", "en") is None


def test_other_profiles_and_clear_errors(tmp_path):
    custom = tmp_path / "salon.yaml"
    custom.write_text(
        "name: Salon Rosa\nhours: {monday: '09:00-13:00', saturday: '10:00-14:00'}\n"
        "services: [{key: cut, minutes: 45, name: {en: haircut, de: Haarschnitt}, default: true}]\n",
        encoding="utf-8",
    )
    salon = load_business(custom)
    assert salon.hours_on(5) == (time(10), time(14)) and salon.hours_on(1) is None
    assert salon.default_service.minutes == 45
    assert "Saturday from 10 am to 2 pm" in salon.opening_hours_text("en")

    for body, field in [
        ("address: nowhere\n", "name"),
        ("name: X\nhours: {funday: '08:00-10:00'}\n", "hours.funday"),
        ("name: X\nhours: {monday: '18:00-08:00'}\n", "hours.monday"),
        ("name: X\nhours: {monday: 'eight to ten'}\n", "hours.monday"),
        ("name: X\nservices: [{key: a, minutes: -5}]\n", "services[0].minutes"),
        ("name: [unclosed\n", "not valid YAML"),
    ]:
        bad = tmp_path / "bad.yaml"
        bad.write_text(body, encoding="utf-8")
        with pytest.raises(BusinessProfileError, match=field.replace("[", r"\[").replace("]", r"\]")):
            load_business(bad)
    with pytest.raises(BusinessProfileError, match="cannot read"):
        load_business(tmp_path / "missing.yaml")


def test_prompt_files_exist_for_both_languages():
    for lang in ("en", "de"):
        for name in ("persona", "inbound", "outbound", "chat"):
            text = (PROMPTS_DIR / lang / f"{name}.md").read_text(encoding="utf-8")
            assert text.strip() and "#" not in text.splitlines()[0]


@pytest.mark.parametrize("lang", ["en", "de"])
def test_inbound_system_prompt(business, lang):
    conv = Conversation(mode=Mode.INBOUND, language=Language(lang))
    prompt = system_prompt(conv, business, ManualClock("2026-11-23T09:15:00+01:00"))
    assert "Lisa" in prompt and "Parkside Physiotherapy" in prompt and "Parkstraße 12" in prompt
    assert "2026-11-23 09:15" in prompt and ("Monday" if lang == "en" else "Montag") in prompt
    assert ("never claim to be human" if lang == "en" else "Gib dich nie als Mensch aus") in prompt.replace(
        "Never", "never"
    )
    assert "{" not in prompt  # every placeholder filled


@pytest.mark.parametrize("lang", ["en", "de"])
def test_outbound_system_prompt_has_the_brief_but_no_private_data(business, lang):
    request = BookingRequest(
        request_id="r",
        user_id="u",
        title="Book a dental cleaning",
        description="I need an appointment for a dental cleaning",
        callback_number="+49 30 1234567",
        number_to_call="+49 30 7654321",
        preferred_time="next week, Monday 10-12",
        user_profile={"username": "Max Mustermann", "street": "Musterstraße", "house_number": "123"},
    )
    conv = Conversation(mode=Mode.OUTBOUND, language=Language(lang), request=request)
    prompt = system_prompt(conv, business, ManualClock("2026-11-23T09:15:00+01:00"))
    assert "Max Mustermann" in prompt and "dental cleaning" in prompt and "next week, Monday 10-12" in prompt
    assert "+49 30 1234567" not in prompt and "Musterstraße" not in prompt and "+49 30 7654321" not in prompt
    assert "get_callback_number" in prompt and "{" not in prompt
