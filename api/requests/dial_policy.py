"""Which numbers Lisa may dial for a booking request (``number_to_call``); the rest is refused with 422.

Never, whatever the settings: emergency and short-code numbers (110, 112, 911, 999, 116 116, …), premium-rate
and shared-cost numbers (``phonenumbers`` number types ``PREMIUM_RATE``, ``SHARED_COST``; e.g. ``+1 900…``,
``+49 900…``, ``+49 180…``, ``+44 909…``), personal, pager and voicemail numbers, and non-geographic numbers
(country code region ``001``: satellite ``+881…``/``+870…``, international networks ``+882``/``+883``,
UIFN). Configurable (:class:`DialPolicy`): the countries calls may go to (default: the business's country)
and a deny list of numbers or prefixes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType, shortnumberinfo

NEVER_TYPES = {
    PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    PhoneNumberType.SHARED_COST: "a shared-cost number",
    PhoneNumberType.PERSONAL_NUMBER: "a personal (forwarding) number",
    PhoneNumberType.PAGER: "a pager number",
    PhoneNumberType.VOICEMAIL: "a voicemail access number",
}
NON_GEOGRAPHIC = "001"  # phonenumbers' region of +800, +808, +870, +878, +881, +882, +883, +888, +979
# regions whose emergency numbers are looked for in a number written without a country code
EMERGENCY_REGIONS = ("DE", "AT", "CH", "US", "GB", "FR", "IT", "ES", "NL", "AU", "IN", "JP")
SHORT_CODE_ERROR = "emergency and short-code numbers (110, 112, 911, 999, …) are never called"


def short_code(raw: str, region: str = "DE") -> bool:
    """Whether ``raw`` (as the client wrote it) is an emergency number or a short code."""
    digits = re.sub(r"\D", "", raw)
    if not digits:
        return False
    dialled_as_is = not raw.strip().startswith(("+", "00"))  # no country code: as typed on a local phone
    emergency = any(shortnumberinfo.is_emergency_number(digits, r) for r in EMERGENCY_REGIONS)
    if dialled_as_is and (len(digits) <= 6 or emergency):
        return True
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return False
    national = str(parsed.national_number)
    if len(national) <= 6 and not phonenumbers.is_valid_number(parsed):
        return True
    number_region = phonenumbers.region_code_for_number(parsed)
    if not number_region:
        return False
    return bool(shortnumberinfo.is_emergency_number(national, number_region))


def never_dialled(e164: str) -> str | None:
    """Why a (normalised) number must never be dialled by a bot, or None."""
    parsed = phonenumbers.parse(e164, None)
    if phonenumbers.region_code_for_number(parsed) == NON_GEOGRAPHIC or (
        phonenumbers.region_code_for_country_code(parsed.country_code or 0) == NON_GEOGRAPHIC
    ):
        return "a non-geographic number (satellite, international network or UIFN) is never called"
    kind = NEVER_TYPES.get(phonenumbers.number_type(parsed))
    return f"{kind} is never called" if kind else None


def _prefix(entry: str) -> str:
    return "+" + re.sub(r"\D", "", entry.replace("00", "", 1) if entry.strip().startswith("00") else entry)


@dataclass(frozen=True)
class DialPolicy:
    """Countries (ISO 3166 codes; ``*`` = any) calls may go to and numbers/prefixes they must not."""

    countries: frozenset[str]
    denied: tuple[str, ...] = ()

    @classmethod
    def of(cls, countries: Iterable[str], denied: Iterable[str] = ()) -> DialPolicy:
        codes = frozenset(c.strip().upper() for c in countries if c.strip())
        prefixes = tuple(p for p in (_prefix(d) for d in denied if d.strip()) if len(p) > 2)
        return cls(codes, prefixes)

    def refusal(self, e164: str) -> str | None:
        """Why ``e164`` may not be dialled (a message naming the rule, for a 422), or None."""
        if reason := never_dialled(e164):
            return reason
        if any(e164.startswith(p) for p in self.denied):
            return "this number is on the deny list"
        if "*" in self.countries or not self.countries:
            return None
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
        if region not in self.countries:
            allowed = ", ".join(sorted(self.countries))
            return (
                f"calls go only to numbers in {allowed} (OUTBOUND_ALLOWED_COUNTRIES); this one is in {region}"
            )
        return None


def business_country(business: object, fallback: str = "DE") -> str:
    """The country of the business Lisa works for: its phone number's, else its public-holiday country."""
    phone = str(getattr(business, "phone", "") or "")
    if phone:
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(phone, fallback))
        except phonenumbers.NumberParseException:
            region = None
        if region and region != NON_GEOGRAPHIC:
            return region
    holidays = getattr(business, "public_holidays", None) or {}
    return str(holidays.get("country") or fallback).upper()
