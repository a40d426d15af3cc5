"""Names a chat user may not give themselves: Lisa, the staff roles, the business and its configured staff.

A user's ``userName`` is shown next to Lisa's and the managers' messages, so "Lisa", "Manager", "System" (in
any case, spacing, with look-alike letters such as Cyrillic ``а`` or ``1`` for ``l``, or decorated as
"Lisa (AI)", "Lisa vom Team", "Praxis-Mitarbeiterin") would let a user speak as staff. A real customer
called "Lisa Müller" keeps their name: only the persona name alone (plus decoration words) is reserved.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

PERSONA_NAMES = ("lisa",)
# a name with any of these words claims a staff role
ROLE_WORDS = frozenset(
    [
        "manager",
        "managerin",
        "system",
        "systemnachricht",
        "admin",
        "administrator",
        "administratorin",
        "moderator",
        "moderatorin",
        "staff",
        "mitarbeiter",
        "mitarbeiterin",
        "reception",
        "receptionist",
        "rezeption",
        "empfang",
        "operator",
        "bot",
        "chatbot",
        "assistant",
        "assistent",
        "assistentin",
    ]
)
# words that only decorate a reserved name ("Lisa (AI)", "Lisa from the team", "Lisa von der Praxis")
DECORATION_WORDS = frozenset(
    [
        "ai",
        "ki",
        "the",
        "from",
        "of",
        "at",
        "team",
        "official",
        "offiziell",
        "real",
        "echt",
        "vom",
        "von",
        "der",
        "die",
        "das",
        "des",
        "praxis",
        "practice",
        "support",
        "service",
        "here",
        "hier",
        "is",
        "ist",
    ]
)
_LOOKALIKES = str.maketrans(
    {
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ѕ": "s",
        "ӏ": "l", "ԁ": "d", "м": "m", "т": "t", "к": "k", "н": "h", "в": "b", "α": "a", "ε": "e",
        "ι": "i", "ο": "o", "ρ": "p", "τ": "t", "ν": "v", "κ": "k", "μ": "m",
        "0": "o", "1": "i", "l": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "|": "i", "!": "i",
    }
)  # fmt: skip


def name_words(name: str) -> list[str]:
    """``"L1sa (AI)"`` -> ``["iisa", "ai"]``: NFKC, case-folded, accents and look-alikes mapped to one ASCII
    skeleton (``l``, ``1``, ``|`` and ``I`` all become ``i``), so look-alike spellings compare equal."""
    text = unicodedata.normalize("NFKC", name).casefold().translate(_LOOKALIKES)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = text.replace("ß", "ss")
    return [w for w in re.split(r"[^a-z]+", text) if w]


def _joined(name: str) -> str:
    return "".join(name_words(name))


_ROLES = frozenset(_joined(w) for w in ROLE_WORDS)
_DECORATIONS = frozenset(_joined(w) for w in DECORATION_WORDS)


def reserved_name(name: str | None, business: str = "", staff: Iterable[str] = ()) -> bool:
    """Whether ``name`` claims to be Lisa, a staff role, the business or one of its ``staff``."""
    if not name or not name.strip():
        return False
    words = name_words(name)
    if not words:
        return False
    if _ROLES.intersection(words):
        return True
    business_words = set(name_words(business))
    kept = [w for w in words if w not in _DECORATIONS and w not in business_words]
    joined, kept_joined = "".join(words), "".join(kept)
    if business and _joined(business) in joined:
        return True
    protected = {*(_joined(p) for p in PERSONA_NAMES), *(_joined(s) for s in staff if s.strip())}
    protected.discard("")
    return joined in protected or kept_joined in protected or (not kept and bool(business_words))
