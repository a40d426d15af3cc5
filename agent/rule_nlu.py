"""What the rule brain understands: intents, names, phone numbers and request phrases (en + de).

Robust to speech-recognition transcripts: lowercase, missing punctuation, digits or number words.
"""

from __future__ import annotations

import difflib
import logging
import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from agent.conversation import BookingRequest
from agent.phrases import phrase

if TYPE_CHECKING:  # agent.when is imported where it is used
    from agent.when import When

log = logging.getLogger(__name__)


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


GOODBYE = _rx(
    r"\b(bye|goodbye|good bye|bye-bye|that'?s all|that is all|that'?s it|that'?s everything|that is everything|that'?ll be all|nothing else|no thanks|"
    r"no,? thank you|(thanks|thank you|okay|ok|alright)[.,!]? by|by now|have a (nice|good) (day|one)|take care|talk to you later|"
    r"tschüss?|tschuss|tschö|ciao|auf wieder(sehen|hören|horen)|das war'?s|das war es|das war alles|"
    r"nichts weiter|sonst nichts|nein,? danke|schönen tag( noch)?)\b"
    # "bye" at the very end as Whisper often writes it on the phone ("… Tuesday at 830 by"), not "drop by"
    r"|(?<!stop )(?<!drop )(?<!come )(?<!pass )(?<!go )(?<!swing )(?<!stand )(?<!pop )(?<!get )\bby\W*$"
)
HUMAN = _rx(
    r"\b(real person|a person|an? (actual )?human|human being|humans?|operator|receptionist|someone|somebody|"
    r"a staff member|staff|colleague|your boss|the doctor|the manager|manager|front desk|reception|"
    r"mitarbeiter\w*|menschen|mensch sprechen|kollegen|kollegin|jemanden|jemandem|jemand anderen|chef|chefin|durchstellen|"
    r"verbinden sie|echten person|richtigen person)\b"
)
TALK = _rx(
    r"\b(talk|speak|connect|transfer|put me through|sprechen|reden|verbinden|weiterleiten|durchstellen|"
    r"give me|get me|geben sie mir|gib mir|holen sie)\b"
)
AI_QUESTION = _rx(
    r"\b(are you|r u|is this|am i (?:\w+ )?(talking|speaking|chatting) (to|with)|bist du|sind sie|ist das|"
    r"(?:spreche|rede|bin|schreibe) ich (?:\w+ ){0,2}mit)\b"
    r".*\b(human|a person|real|robot|a bot|bot|ai|an ai|a machine|machine|computer|recording|"
    r"mensch|menschen|roboter|ki|echt|echten|maschine|künstliche|computer|bandansage)\b"
)
MESSAGE = _rx(
    r"\b(leave a message|take a message|leave a note|pass (on )?a message|pass it on|message for|"
    r"give (him|her|them) a message|nachricht|ausrichten|hinterlassen)\b"
)
# the answer to Lisa's way out ("… or I can take a message"): "A message, please.", "Nachricht, bitte."
SHORT_MESSAGE = _rx(
    r"^\W*(?:(?:a|one|eine|ne|lieber|rather|just)\s+)?(?:message|note|nachricht|notiz)\b(?:\W+\w+){0,2}\W*$"
)
STRONG_MESSAGE = _rx(
    r"\b(leave a message|take a message|leave a note|nachricht hinterlassen|eine nachricht|etwas ausrichten)\b"
)
CALLBACK = _rx(
    r"\b(call me back|call back|callback|ring me back|get back to me|give me a call|"
    r"rückruf|ruckruf|zurückrufen|zuruckrufen|zurückruf\w*|ruft mich\b.*\ban|rufen sie mich\b.*\ban|"
    r"ruf\w* (?:sie |du )?mich\b.{0,30}\bzurück)\b"
)
# "is this Luigi's?", "am I speaking to Dr Wagner's office?", "bin ich da richtig bei der Zahnarztpraxis …?"
_WHICH_BUSINESS = re.compile(
    r"\b(?:[Ii]s (?:this|that|it)|[Aa]m I (?:speaking|talking) (?:to|with)|[Hh]ave I (?:reached|got|called))\s+"
    r"(?:the\s+|a\s+)?(?P<place>[A-ZÄÖÜ][\w'’]+|\w+['’]s\b|dr\b|doctor\b)"
    r"|\b[Bb]in ich (?:da |hier )?(?:richtig )?(?:bei|mit)\b|\b[Ss]preche ich mit\b|\b[Bb]in ich (?:da |hier )?richtig\b"
)


def asks_which_business(text: str) -> bool:
    """Whether the caller asks if this is some business ("is this Luigi's?", "bin ich richtig bei …?")."""
    for m in _WHICH_BUSINESS.finditer(text):
        place = (m.group("place") or "").lower().rstrip("'’s")
        if not (_no_name(place) or place in ("ok", "okay")):
            return True
    return False


# a therapist asked for by name: "is Markus working on Friday?", "I'd like to see Markus", "bei Frau Schulz"
_STAFF_WISH = re.compile(
    r"\b(?:[Ii]s|[Ii]st) (?P<a>[A-ZÄÖÜ][a-zäöüß]+) (?:working|in|there|available|around|free|on duty|heute|morgen|"
    r"am|da|im Dienst)\b"
    r"|\b(?:with|see|book with|zu|bei) (?P<b>(?:(?:Frau|Herrn?|Dr\.?|Mr\.?|Mrs\.?|Ms\.?) )[A-ZÄÖÜ][a-zäöüß]+)"
    r"|\b(?:with|see) (?P<c>[A-Z][a-z]+)\b"
)
_NOT_STAFF = {"you", "i", "it", "me", "us", "them", "the", "my", "your", "ihnen", "sie", "ihr", "this", "that"}  # fmt: skip


def staff_wish(text: str) -> str | None:
    """The therapist the caller asks for by name ("is Markus working on Friday?" -> "Markus"), or None."""
    for m in _STAFF_WISH.finditer(text):
        name = m.group("a") or m.group("b") or m.group("c")
        if name and not _no_name(name):
            return name
    return None


_MONTHS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "januar", "februar", "märz", "mai", "juni", "juli", "oktober", "dezember",
}  # fmt: skip


def _no_name(word: str) -> bool:
    """Whether ``word`` after "is this …?" / "is … working?" is a weekday, a month or a pronoun, not a name."""
    return bool(_WEEKDAY.search(word)) or word.lower() in _MONTHS or word.lower() in _NOT_STAFF


# what a callback is about: "… about whether my prescription covers 10 sessions", "es geht um meine Rechnung",
# "wegen einer Frage zu meiner Verordnung"
_CALLBACK_TOPIC = _rx(
    r"\b(?:about|regarding|concerning|wegen|bezüglich|es geht um|geht um)\s+([^.?!;]*[^\W_][^.?!;]*)"
)


def callback_topic(text: str) -> str | None:
    """What the caller wants to be called back about, as said ("whether my prescription covers …"), or None."""
    m = _CALLBACK_TOPIC.search(text)
    if m is None:
        return None
    topic = re.sub(r"\s+(?:this|next|tomorrow|today|heute|morgen)\b.*$", "", m.group(1), flags=re.I)
    topic = topic.strip(" ,")
    return topic if len(topic.split()) >= 2 or len(topic) > 5 else None


# the caller puts the booking off and leaves it for now ("I'll think about it and get back to you", "cancel that,
# I need to check with my boss first", "dann meld ich mich nochmal", "ich muss Schluss machen, ich ruf nochmal an")
DEFERS = _rx(
    r"\b(?:think about it|think it over|sleep on it|get back to you|check with (?:my|the) \w+|"
    r"(?:i'?ll|i will) (?:call|ring|try|come back|write) (?:again|back|later|another time)|call (?:you )?again|"
    r"(?:have|got|need) to (?:go|run|hang up)|gotta go|forget it|cancel that|scratch that|"
    r"meld\w* (?:ich )?mich (?:\w+ )?(?:nochmal|noch mal|wieder|später|dann)|ich melde mich|"
    r"ruf\w* (?:ich )?(?:\w+ )?(?:nochmal|noch mal|wieder|später) an|überleg\w* (?:es |das )?mir|"
    r"muss (?:jetzt )?(?:schluss machen|auflegen|los|weg)|vergessen sie'?s|vergiss es|lassen wir das)\b"
)
HOURS = _rx(
    r"\b(open|opening|hours|close|closing|closed|geöffnet|geoffnet|öffnungszeit\w*|offnungszeit\w*|offen|"
    r"aufhaben|auf haben|geschlossen|zu haben)\b|"
    r"\b(?:haben|hat) (?:sie|ihr|die praxis)\b[^.!?]{0,30}\bauf\s*\?"  # "Haben Sie am Montag auf?"
)
# an upset or abusive caller ("this is fucking ridiculous", "Ihr seid doch alle unfähig, verdammt noch mal!")
UPSET = _rx(
    r"\b(?:fuck\w*|shit\w*|damn\w*|bloody|crap|ridiculous|useless|incompetent|idiots?|stupid|pathetic|"
    r"scheiß\w*|scheiss\w*|verdammt\w*|mist|unfähig\w*|idioten?|blöd\w*|unverschämt\w*|frechheit|saftladen)\b"
)
BOOK = _rx(
    r"\b(appointment|appointments|book|booking|schedule|reserve|reservation|slot|come in|come by|see the|"
    r"termin\w*|buchen|vereinbaren|reservieren|vorbeikommen|kommen)\b"
)
YES = _rx(
    r"^\W*(yes|yeah|yep|yup|sure|ok|okay|fine|great|perfect|that works|sounds good|please do|correct|"
    r"right|alright|all right|good|ja|jawohl|jep|gerne|gern|passt|genau|einverstanden|in ordnung|klar|"
    r"super|prima|gut|richtig|okey)\b"
)
NO = _rx(r"^\W*(no|nope|nah|not really|nein|nee|ne|lieber nicht|leider nicht|leider nein|eher nicht)\b")
PAST_DAY = _rx(
    r"\b(yesterday|last (week|month|monday|tuesday|wednesday|thursday|friday)|gestern|vorgestern|letzte[nm]? (woche|montag|dienstag|mittwoch|donnerstag|freitag))\b"
)
_WEEKDAY = _rx(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|montag|dienstag|mittwoch|donnerstag|"
    r"freitag|samstag|sonntag)s?\b"
)
_DAY_QUALIFIER = _rx(
    r"\b(this|next|coming|following|last|today|tomorrow|week|diese[nmrs]?|nächste[nmrs]?|kommende[nmrs]?|"
    r"übernächste[nmrs]?|heute|morgen|woche)\b|\d{1,2}\s*\.(?!\d)|\d{1,2}(st|nd|rd|th)\b|"
    r"\b(january|february|march|april|may|june|july|august|september|october|november|december|"
    r"januar|februar|märz|mai|juni|juli|oktober|dezember)\b"
)


def bare_weekday(text: str) -> bool:
    """Whether ``text`` names a weekday without saying which week or date ("Tuesday at ten", not "next
    Tuesday", "Tuesday the 1st", "Dienstag, 1. Dezember")."""
    return bool(_WEEKDAY.search(text)) and not _DAY_QUALIFIER.search(text)


# words that name a week rather than one day: "next week", "übernächste Woche", "in two weeks", "the week of
# the 7th", "next Tuesday" / "nächsten Dienstag" (a weekday of next calendar week), "in 10 Tagen"
_NAMES_WEEK = _rx(
    r"\b(?:weeks?|wochen?|weekends?|wochenenden?)\b|"
    r"\b(?:next|nächste[nmrs]?|übernächste[nmrs]?)\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag)\b|"
    r"\bin\s+\S+\s+(?:days|tagen)\b"
)


def named_week(text: str, when: When, now: datetime) -> date | None:
    """The Monday of the later week ``text`` names with the day or days it wishes (``when``): "an appointment
    next week", "the week after next", "in two weeks", "the week of the 7th", "nächsten Dienstag",
    "übernächste Woche"; None when it names a day or span without a week ("tomorrow", "this Friday", "December
    3rd", "next month") or the week running now ("diese Woche Freitag")."""
    day = when.day or when.first_day
    if day is None or not _NAMES_WEEK.search(text):
        return None
    monday = day - timedelta(days=day.weekday())
    return monday if monday > now.date() - timedelta(days=now.weekday()) else None


def weekday_in_week(text: str, monday: date, now: datetime, lang: str) -> When | None:
    """What a bare weekday answer ("Tuesday at ten then", "lieber Mittwoch", "Monday to Wednesday") wishes
    when it is said of the week of ``monday``: read as on the Sunday before that week, so that its weekdays
    fall in it; None when it names no day in that week."""
    eve = datetime.combine(monday - timedelta(days=1), now.timetz())
    moved = wished_when(text, eve, lang)
    if moved is None or (moved.day is None and moved.first_day is None):
        return None
    days = moved.days()
    if not days or days[0] < monday or days[-1] > monday + timedelta(days=6):
        return None
    return moved


_WISH = _rx(
    r"\b(would|could|can|works?|suits?|good|fine|possible|free|okay|ok|passt|geht|ginge|könnte|würde|wäre|gut|"
    r"(?:have|got) anything|wondering|was frei|etwas frei|noch frei)\b"
)


def past_story(text: str) -> bool:
    """Whether ``text`` tells of something past ("My dog pulled me over on the ice yesterday.") rather than
    asking for a past day ("Yesterday?", "Last Monday would be good"): a statement of five words or more
    with a past day and no booking or wish words in it."""
    return bool(
        PAST_DAY.search(text)
        and "?" not in text
        and len(text.split()) >= 5
        and not BOOK.search(text)
        and not _WISH.search(text)
    )


PRICE = _rx(
    r"\b(how much|what does (?:it|that|a|an|one) [\w\s]{0,30}cost|what do you charge|prices?|pricing|costs?|fees?|rates|"
    r"charges?|expensive|cheap|was kostet|wie viel kostet|wieviel kostet|kosten|kostet|preis\w*|gebühr\w*|teuer|"
    r"was nehmen sie|was verlangen sie|\d+ ?(?:euros?|eur|€|dollars?|pounds?))\b"
)
"""A question about prices: the profile's price answer, or honestly none (see RuleBrain _price)."""
NOTHING = _rx(r"\b(nothing|none|nichts|keine[nr]?|leider nicht|doesn'?t work|geht nicht)\b")
# a bad line checked: "Hello? Can you hear me?", "are you still there?", "Hallo? Hören Sie mich?", "Sind Sie noch da?"
HEAR_CHECK = _rx(
    r"^\W*(?:(?:hello|hallo|hi|hey)\W+)*(?:can you hear me|do you hear me|are you (?:still )?there|is anyone there|"
    r"hören sie mich|können sie mich hören|hörst du mich|sind sie (?:noch )?da|bist du (?:noch )?da|"
    r"ist da (?:jemand|wer))\W*$"
)
GREETING_ONLY = _rx(
    r"^\W*(hi|hello|hey|hallo|hi there|hello there|good (morning|afternoon|evening)|guten (morgen|tag|abend)|"
    r"servus|moin|grüß gott|grüezi)( lisa)?\W*$"
)
# a greeting with a pleasantry ("Good morning! Hope you're having a lovely start to the week :)", "How are you?")
PLEASANTRY = _rx(
    r"^\W*(?:(?:hi|hello|hey|hallo|hi there|hello there|good (?:morning|afternoon|evening)|guten (?:morgen|tag|abend)|"
    r"servus|moin)(?: lisa)?\W*)?(?:(?:i )?hope (?:you'?re|you are|your|you'?ve|you have) [^.!?]*|"
    r"how are you(?: doing| today)?|how'?s it going|how do you do|wie geht'?s(?: ihnen| dir)?|wie geht es ihnen|"
    r"(?:ich )?hoffe,? (?:sie|du|ihr) [^.!?]*)[\W\s]*$"
)
# words typed quickly in a chat, as the rules know them ("hi i need an apointment pls", "tmrw at 10")
_TYPOS = {
    "apointment": "appointment", "appoinment": "appointment", "appoitment": "appointment",
    "appointmnet": "appointment", "appointmet": "appointment", "apointement": "appointment", "appt": "appointment",
    "apointments": "appointments", "pls": "please", "plz": "please", "tmrw": "tomorrow", "tmr": "tomorrow",
    "tomorow": "tomorrow", "tommorow": "tomorrow", "tommorrow": "tomorrow", "wensday": "wednesday",
    "wednsday": "wednesday", "wedensday": "wednesday", "thrusday": "thursday", "thursady": "thursday",
    "fridya": "friday", "satruday": "saturday", "tuesdya": "tuesday", "mondya": "monday",
    "thx": "thanks", "termn": "termin", "temin": "termin", "morgn": "morgen",
}  # fmt: skip
_TYPO_RE = re.compile(r"\b(?:" + "|".join(sorted(_TYPOS, key=len, reverse=True)) + r")\b", re.IGNORECASE)


def strip_emoji(text: str) -> str:
    """``text`` without emoji and pictographs ("mia 🙂 mia lopez" -> "mia mia lopez"); they never carry a name,
    a day or a yes."""
    kept = [
        c
        for c in text
        if not (
            unicodedata.category(c) in ("So", "Sk", "Cs")
            or c in "\u200d\ufe0f\ufe0e"
            or 0x1F3FB <= ord(c) <= 0x1F3FF
        )
    ]
    return re.sub(r"[ \t]{2,}", " ", "".join(kept)).strip()


def fix_typos(text: str) -> str:
    """``text`` with the common chat misspellings above written out (no single letters: names get spelled)."""
    return _TYPO_RE.sub(lambda m: _TYPOS[m.group(0).lower()], text) if _TYPO_RE.search(text) else text


SERVICES = _rx(
    r"\b(services|what do you offer|what can i book|which treatments|what treatments|leistungen|angebot|"
    r"was bieten sie|welche behandlungen)\b"
)
_CHOICES = (
    (0, r"first|1st|earliest|erste[nrms]?|früheste[nrms]?"),
    (1, r"second|2nd|middle|zweite[nrms]?|mittlere[nrms]?"),
    (2, r"third|3rd|dritte[nrms]?"),
    (-1, r"last|latest|letzte[nrms]?|späteste[nrms]?"),
)
ANY_TIME = _rx(
    r"^\W*(asap|as soon as possible|anytime|any time|whenever|flexible|so bald wie möglich|"
    r"schnellstmöglich|baldmöglichst|egal|jederzeit|flexibel)\W*$"
)
# the caller wants the earliest free slot, whatever the day ("what's your next available appointment?")
NEXT_FREE = _rx(
    r"\b((next|first|earliest|soonest) (available|free|open|possible)( (appointment|slot|time|date|opening|one))?|"
    r"next (opening|slot)|earliest|soonest|whenever|any ?time|"
    r"as soon as (possible|you can)|asap|as early as possible|"
    r"nächste[nrms]? (freie[nrms]?|mögliche[nrms]?) (termin|zeit)|nächstmöglich\w*|frühestmöglich\w*|"
    r"(erste[nrms]?|früheste[nrms]?) (freie[nrms]? )?termin|so bald wie möglich|so schnell wie möglich|"
    r"schnellstmöglich|baldmöglichst|möglichst bald|möglichst früh)\b"
)
# after an offer: another one after it ("anything later?", "something after that?", "lieber später")
LATER_ONE = _rx(
    r"\b(later|after that|another (time|one|slot|day)|something else|a different (time|one|day)|"
    r"später\w*|danach|einen anderen (termin|tag)|eine andere (zeit|uhrzeit)|etwas anderes)\b"
)
ACK_ONLY = _rx(
    r"^\W*(ok|okay|all ?right|alright|right|mhm|uh-?huh|yes|yeah|sure|fine|good|great|perfect|"
    r"ja|gut|alles klar|okay gut|in ordnung|genau|prima|super)\W*$"
)
THANKS = _rx(r"\b(thanks|thank you|thx|thanx|ty|tysm|cheers|danke|dankeschön|vielen dank)\b")
REPEAT_ASK = _rx(
    r"\b(sorry\??$|pardon|come again|say that again|repeat|wie bitte|nochmal|noch mal|wiederholen)\b"
)

# outbound: what the called business says
NO_AVAILABILITY = _rx(
    r"\b(fully booked|booked up|all booked|no (free )?(appointments?|slots?|availability|time)|"
    r"nothing (free|available|open)|not? (any|anything) (free|available|open)|don'?t have anything|"
    r"no openings|can'?t (offer|fit) (you|anything)|nothing (on|at|then|that day|this week|next week)|ausgebucht|voll|keine (freien )?termine|keinen termin|"
    r"nichts (mehr )?frei|leider nichts|kein termin)\b"
)
CALL_LATER = _rx(
    r"\b(call (us |me )?(back|again)|try again|ring (back|again)|call later|später (noch ?mal|nochmal|wieder|"
    r"erneut)?\s*an|nochmal anrufen|noch ?mal an|rufen sie (bitte )?(später|morgen|nochmal|noch ?mal|in)|"
    r"später anrufen|melden sie sich (später|nochmal|noch ?mal))\b"
)
CONFIRM = _rx(
    r"\b(see you( then)?|booked (you|it|that)|you'?re booked|you are booked|i'?ve (booked|put|noted|written)|i'?ve got (him|her|you|it|that|them)\b|"
    r"put (you|him|her|it) down|got you down|you'?re (all )?set|that'?s (confirmed|settled|booked|done)|"
    r"confirmed|all set|is booked|booked|done|eingetragen|gebucht|notiert|vorgemerkt|bis dann|bis (montag|dienstag|"
    r"mittwoch|donnerstag|freitag|samstag)|bis zum|wir sehen uns|ist fest)\b"
)
NAME_QUESTION = _rx(
    r"\b(name|who is (it|the appointment|that) for|for whom|who'?s coming|spell|"
    r"wie heißt|wie heisst|wer kommt|für wen|auf wen|namen)\b"
)
PHONE_QUESTION = _rx(
    r"\b(phone number|(your|his|her|their|a|the|which) phone|mobile|number|reach (you|him|her|them)|contact|"
    r"telefonnummer|handynummer|telefonisch|nummer|rückrufnummer|erreichbar|erreichen)\b"
)
PRIVATE_QUESTION = _rx(
    r"\b(birth|born|birthday|address|insurance|insured|date of birth|email|e-mail|"
    r"geburt\w*|adresse|anschrift|versichert|versicherung|krankenkasse|mail)\b"
)
ANYTHING_ELSE = _rx(r"\b(anything else|something else|sonst noch|noch etwas|noch was|weiteres)\b")
HOLD = _rx(
    r"\b(one moment|just a moment|hold on|let me (just |quickly )?(check|see|look|have a look)|bear with me|wait a (second|moment)|"
    r"(i'?ll|let me) (put|transfer|connect) you( through)?|please hold|"
    r"einen (moment|augenblick)|moment bitte|ich schau|ich sehe mal|ich gucke|kurz nachsehen|"
    r"ich (verbinde|stelle) sie( \w+){0,4}( durch)?|bleiben sie (bitte )?dran)\b"
)
HOW_CAN_I_HELP = _rx(
    r"\b(how can i help|what can i do|how may i help|wie kann ich|was kann ich|worum geht)\b"
)
QUESTION_OFFER = _rx(
    r"\?|\b(would|could|how about|what about|does .* work|wie wäre|ginge|würde|passt ihnen)\b"
)

_STRONG_NAME = _rx(
    r"\b(?:my name is|my name'?s|the name is|name is|name'?s|mein name ist|mein name|ich heiße|ich heisse|"
    r"der name ist|name lautet|auf den namen|(?<!wie )(?:sie|er) hei(?:ß|ss)t|(?:ihr|sein) name ist)\s+(.+)"
)
_NAME_BEFORE = re.compile(  # "Weber mein Name", "Rachel Green is my name"
    r"\b([A-ZÄÖÜ][^\W\d_]+(?:[ -][A-ZÄÖÜ][^\W\d_]+)?),? (?i:is my name|is the name|ist mein name|mein name|heiße ich)\b"
)
# the caller names themself inside the message: "tell him Sarah Klein called", "sagen Sie ihr, Jan Roth hat angerufen"
_CALLED_NAME = re.compile(
    r"\b(?i:tell (?:him|her|them)|say|sag\w* (?:sie )?(?:ihm|ihr))\W+(?:(?i:that|dass)\s+)?"
    r"([A-ZÄÖÜ][^\W\d_]+ [A-ZÄÖÜ][^\W\d_]+) (?i:called|rang|phoned|hat angerufen|hat sich gemeldet)\b"
)
_WEAK_NAME = _rx(r"\b(?:this is|i am|i'?m|it'?s|it is|call me|ich bin|hier ist|hier spricht)\s+(?=\S)")
_NOT_NAMES = {
    "a", "an", "the", "and", "or", "calling", "looking", "interested", "here", "fine", "good", "sorry", "not",
    "just", "so", "very", "really", "wondering", "trying", "glad", "happy", "going", "about", "for",
    "ok", "okay", "yes", "no", "ja", "nein", "bitte", "please", "thanks", "danke", "hello", "hi", "hallo",
    "ein", "eine", "der", "die", "das", "und", "oder", "auch", "noch", "gern", "gerne", "mit", "von",
    "am", "um", "on", "at", "in", "is", "it", "i", "ich", "me", "my", "mein", "name", "termin", "appointment",
    "would", "like", "want", "möchte", "will", "need", "brauche", "bye", "tschüss", "to", "zu", "that",
    "interessiert", "neu", "new", "patient", "patientin", "kunde", "customer", "there", "da",
    "all", "alles", "everything", "ist", "richtig", "correct",
    # fillers and self-corrections are never names ("Hang on." -> not "Hang")
    "hang", "hold", "wait", "sec", "second", "moment", "uh", "er", "erm", "hmm", "äh", "ähm", "actually",
    "rather", "instead", "lieber", "doch", "warte", "mal", "sekunde", "augenblick", "let", "think", "one",
    # lead-ins around a name ("it's for Tom Becker", "Auf Schneider bitte")
    "it's", "its", "that's", "name's", "auf", "unter", "under", "für", "put", "book", "buchen", "sie", "back",
    # what a caller is rather than who ("I'm running late", "ich bin leider verspätet")
    "running", "late", "stuck", "sick", "afraid", "unable", "leider", "spät", "später", "verspätet",
    # greetings ("Guten Tag, ich hätte gern …") and numbers said as words ("It's zero one seven six …")
    "guten", "tag", "morning", "evening", "moin", "servus", "hey", "heyy", "hiya", "grüß",
    "zero", "oh", "two", "three", "four", "five", "six", "seven", "eight", "nine", "double", "null", "eins",
    "zwei", "drei", "vier", "fünf", "sechs", "sieben", "neun", "zehn",
}  # fmt: skip
# what comes before a name said on its own: "yes, it's for", "sorry, name's", "Auf den Namen", "under"
_LEAD_IN = _rx(
    r"^\W*(?:(?:yes|yeah|yep|yup|ja|genau|sure|ok|okay|alright|gern|gerne|klar|sorry|oh|so|well|also|na|ah|"
    r"right)\b\W*)*"
    r"(?:(?:it'?s|it is|that'?s|that is|this is|name'?s|the name'?s|the name is|my name is|my name'?s|i am|i'?m|"
    r"call me|das ist|es ist|es wäre|hier ist|hier spricht|ich bin|ich heiße|ich heisse|mein name ist)\s+)?"
    r"(?:(?:put it |book it |buchen sie (?:es |das )?|tragen sie (?:es |das |mich )?)?"
    r"(?:for|under|in the name of|auf|unter|für)\s+(?:(?:the )?name\s+|(?:den )?namen\s+)?)?"
)
_PARTICLES = {"von", "van", "de", "der", "zu", "del", "da", "di", "le", "la"}
_PHONE = re.compile(r"\+?\d[\d \-/().]{4,}\d")


def _clean_name(raw: str) -> str | None:
    raw = re.split(r"[,.;:!?()]|\s+(?:and|und|please|bitte|thanks|danke|from|aus|for|für)\b", raw.strip())[0]
    words = [w for w in raw.split() if w]
    out: list[str] = []
    for w in words[:4]:
        w = w.strip("\"'")
        if not re.fullmatch(r"[^\W\d_](?:[^\W\d_]|['\-])*", w):
            break
        if w.lower() in _NOT_NAMES and not (out and w.lower() in _PARTICLES):
            break
        out.append(w)
    if not out:
        return None
    return " ".join(
        w if (w.lower() in _PARTICLES and i) or not w.islower() else w.capitalize() for i, w in enumerate(out)
    )


_NAME_PARTS = re.compile(r"\s*[,;:!?]\s*|(?<!\b[A-Z])\.\s*|\s+[–—-]\s+|\s+(?:and|und)\s+")


def _loose_names(text: str) -> list[str]:
    """The names said on their own in the parts of ``text``: "Auf Schneider bitte, Lukas Schneider" ->
    ["Schneider", "Lukas Schneider"] (lead-ins like "it's for", "auf", "under" and "please" dropped)."""
    names = []
    for part in _NAME_PARTS.split(text):
        part = _LEAD_IN.sub("", part.strip())
        part = re.sub(r"\s*\b(please|bitte|thanks|thank you|danke)\W*$", "", part, flags=re.IGNORECASE)
        part = part.strip(" .!")
        if 0 < len(part.split()) <= 4 and re.fullmatch(r"[^\W\d_](?:[^\W\d_]|['\- ])*", part):
            name = _clean_name(part)
            if name and len(name.split()) == len(part.split()):
                names.append(name)
    return names


def _fuller(name: str | None, text: str) -> str | None:
    """``name``, or the fuller form of it said in the same breath: "Müller, Anna Müller" -> "Anna Müller"."""
    if not name:
        return name

    def core(n: str) -> set[str]:  # the name without a title: "Frau Schmidt" < "Anna Schmidt"
        return {w.lower().rstrip(".") for w in n.split()} - _TITLES

    for other in _loose_names(text):
        if len(core(name)) < len(core(other)) <= 3 and core(name) <= core(other):
            return other
    return name


_TITLES = {"frau", "herr", "herrn", "mr", "mrs", "ms", "miss", "dr", "doktor", "doctor"}


# "Fr. Weber", "Hr. Krause": a title shortened with a full stop (never the end of a sentence)
_SHORT_TITLE = re.compile(r"\b(Fr|Hr|Hrn)\.\s*(?=[A-ZÄÖÜ])")
_SHORT_TITLES = {"fr": "Frau", "hr": "Herr", "hrn": "Herrn"}
# "Schröder, S-C-H-R-Ö-D-E-R, Vorname Jürgen", "Smith, first name John": the given name said after the surname
_GIVEN_NAME = _rx(
    r"\b(?:vorname|vornamen|first name|given name|christian name)\s*(?:ist|is)?\s*([^\W\d_]{2,})"
)


def extract_name(text: str, expecting: bool = False) -> str | None:
    """A person's name in ``text`` ("my name is Erika Musterfrau"); loose forms only when one was asked for,
    never in an answer that only acknowledges ("yep", "ja genau", "ok thanks").
    The fullest form said wins ("Auf Schneider bitte, Lukas Schneider" -> "Lukas Schneider"); a given name
    said after the surname comes first ("Schröder, Vorname Jürgen" -> "Jürgen Schröder")."""
    text = _SHORT_TITLE.sub(lambda m: _SHORT_TITLES[m.group(1).lower()] + " ", text)
    given = _GIVEN_NAME.search(text)
    if given is not None:
        rest = _SPELLED.sub(" ", text[: given.start()] + " " + text[given.end() :])
        surname = _extract_name(rest, True)
        if surname and surname.split()[-1].lower() != given.group(1).lower():
            return f"{given.group(1).capitalize()} {surname.split()[-1]}"
    name = _fuller(_extract_name(text, expecting and not acknowledges_only(text)), text)
    words = name.split() if name else []
    if len(words) > 2 and words[0].lower() == words[1].lower():  # "mia, mia lopez": the name said again
        return " ".join(words[1:])
    return name


def bare_full_name(text: str) -> str | None:
    """ "Sam Ortiz" typed or heard on its own (two or three capitalised words, none a common word): a name
    even when Lisa asked something else (a time, an offer)."""
    if THANKS.search(text) or GOODBYE.search(text):
        return None
    best: str | None = None
    for part in _NAME_PARTS.split(text):  # "Schulz, Karin Schulz", "oh, it's for my son - Leo Brandt"
        words = _LEAD_IN.sub("", part.strip()).strip(" .!").split()
        if not 2 <= len(words) <= 3 or (best and len(best.split()) >= len(words)):
            continue
        if not all(re.fullmatch(r"[A-ZÄÖÜ][a-zäöüß]+(?:[-'][A-ZÄÖÜa-zäöüß]+)?", w) for w in words):
            continue
        if not any(w.lower() in _NOT_NAMES or w.lower() in _NOT_NAME_WORDS for w in words):
            best = " ".join(words)
    return best


_SELF_NAMED = _rx(r"\s*\b(?:here|speaking|hier|am apparat)\W*$")


def name_instead(text: str) -> str | None:
    """A full name given where Lisa asked something else (a day): "Joe Park", "Müller, Anna Müller", "Joe Park
    here, I have a bad back"; never words of a day ("Next Tuesday", "Monday Morning")."""
    parts = [_SELF_NAMED.sub("", p) for p in _NAME_PARTS.split(text)]
    name = bare_full_name(", ".join(p for p in parts if p.strip()))
    if name is None or _WEEKDAY.search(name) or _DAY_QUALIFIER.search(name):
        return None
    return name


_CAPITALISED = r"[A-ZÄÖÜ][a-zäöüß]+(?:[-'][A-ZÄÖÜa-zäöüß]+)?"
# "Müller hier, ich wollte fragen …", "Hi, Carla Jensen here, can I come tomorrow?": the name before "here"
_NAME_HERE = re.compile(
    rf"(?:^|[.!?,;]\s*)(?:(?i:hi|hello|hey|hallo|guten (?:tag|morgen|abend)|moin|servus)\W+)?"
    rf"({_CAPITALISED}(?: {_CAPITALISED})?),? (?i:here|speaking|hier|am apparat)\b"
)
# "… tomorrow at 10 for Carla Jensen please", "unter dem Namen Berg", "in the name of Jensen": a full name after
# "for"/"für" (one capitalised word there is a German noun: "für Massage"), a surname alone after "under"
_NAME_FOR = re.compile(
    rf"\b(?:(?i:for|für) ({_CAPITALISED} {_CAPITALISED})|"
    rf"(?i:under|unter|auf|in the name of)(?: (?i:the name|den namen|dem namen|name))? ({_CAPITALISED}(?: {_CAPITALISED})?))\b"
)


def name_in_request(text: str) -> str | None:
    """A name given with a booking request, not as an answer: "tomorrow at 10 for Carla Jensen please",
    "Müller hier, ich wollte fragen ob ich morgen um zehn kommen kann", "book Friday under Jensen"; never words of
    a day, a relative or a request ("für Montag Vormittag", "for Physio Tuesday")."""
    found = [m.group(1) for m in _NAME_HERE.finditer(text)]
    found += [m.group(1) or m.group(2) for m in _NAME_FOR.finditer(text)]
    for name in found:
        words = [w.lower() for w in name.split()]
        if any(w in _NOT_NAMES or w in _NOT_NAME_WORDS for w in words) or words[-1] in _TITLES:
            continue
        if _WEEKDAY.search(name) or _DAY_QUALIFIER.search(name) or re.search(_RELATIVE, name, re.I):
            continue
        return name
    return None


# a sentence that asks ("Is there parking", "Where can I park", "Gibt es Parkplätze", "Was kostet das"); no word
# that is also a first name ("Will", "May")
_ASKING = _rx(
    r"^\W*(?:and |so |also |und |okay,? |ok,? |sorry,? |oh,? |ah,? |und noch |noch )?"
    r"(?:do|does|did|is|isn'?t|are|aren'?t|was|were|has|have|had|would|can|could|should|what|what'?s|which|"
    r"when|where|where'?s|who|why|how|gibt|gibt'?s|hat|haben|ist|sind|wird|kann|können|darf|dürfen|muss|"
    r"soll|was|welche\w*|wann|wo|wer|wie|warum|wieso|weshalb)\b"
)


def asks(text: str) -> bool:
    """Whether ``text`` asks something: a question mark, or a sentence that starts as a question ("Is there
    parking", "Wo kann ich parken")."""
    return "?" in text or any(_ASKING.search(s) for s in re.split(r"(?<=[.!,;])\s+", text.strip()))


def name_answer(text: str) -> str | None:
    """The answer to "May I have your name?" when it is a name, also one that is a word of an FAQ question or a
    price ("Park", "Joe Park", "It's Sarah Price", "Preis, Anna Preis"); never a question ("Is there parking",
    "Where can I park my car?", "Gibt es Parkplätze?")."""
    if asks(text):
        return None
    return extract_name(text, expecting=True)


# the words of an answer that only acknowledges or thanks ("yep", "ok thanks", "ja genau", "alles klar, danke");
# no word that is also a common name ("Jo")
_ACK_WORDS = {
    "ok", "okay", "okey", "k", "kk", "yes", "yeah", "yep", "yup", "ya", "sure", "fine", "great", "perfect", "good",
    "alright", "all", "right", "cool", "awesome", "lovely", "nice", "excellent", "wonderful", "thanks", "thank",
    "thx", "ty", "you", "cheers", "much", "very", "so", "sounds", "works", "that", "s", "please", "oh", "ah", "mhm",
    "hm", "exactly", "correct", "indeed", "got", "it", "ja", "jawohl", "jep", "genau", "passt", "klar", "alles",
    "gut", "super", "prima", "perfekt", "toll", "danke", "dankeschön", "vielen", "dank", "bitte", "richtig",
    "stimmt", "einverstanden", "in", "ordnung", "gerne", "gern", "sehr", "na", "dann", "wunderbar", "okidoki",
    "amazing", "brilliant", "fantastic", "fab", "tysm", "thanx", "tx", "klasse", "spitze", "top",
}  # fmt: skip


def acknowledges_only(text: str) -> bool:
    """Whether ``text`` only acknowledges or thanks ("yep", "ok thanks", "ja genau", "alles klar, danke",
    "sounds good!"): never a name, whatever Lisa asked."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    return bool(words) and all(w in _ACK_WORDS for w in words)


# taking the slot offered without a "yes": "I'll take it", "take that one", "book it", "den nehme ich",
# "nehme ich", "ich nehme ihn", "den hätte ich gern", "buchen Sie den"
_TAKES_IT = _rx(
    r"\b(?:i'?ll take (?:it|that|this|the \w+|that one|this one)|take (?:that|this) one|book (?:it|that|that one)|"
    r"(?:that|this) one(?: please| is fine| works)?\W*$|"
    r"(?:den|die|das|diesen|diese|ihn) (?:nehme|nehm|hätte|buche) ich|nehme? ich\W*$|"
    r"ich nehme (?:den|die|das|ihn|diesen|diese)\b|buchen sie (?:den|die|das|ihn)\b)"
)


def accepts(text: str) -> bool:
    """Whether ``text`` takes what Lisa offered: a yes ("sure", "passt") or "I'll take it", "den nehme ich"."""
    return bool(YES.search(text) or _TAKES_IT.search(text))


_LATE_WISH = _rx(
    r"\b(?:as late as (?:possible|you can)|latest possible|the later the better|end of the day|after work|"
    r"late in the day|so spät wie möglich|möglichst spät|spätestmöglich\w*|je später,? desto besser|"
    r"gegen ende des tages|nach der arbeit|nach feierabend|(?:the )?latest (?:appointment|slot|time)|"
    r"last (?:appointment|slot)|spätester?n? (?:termin|uhrzeit)|letzte[nr]? termin)\b"
)
_EARLY_WISH = _rx(
    r"\b(?:as early as (?:possible|you can)|earliest possible|first thing|the earlier the better|early in the day|"
    r"before work|so früh wie möglich|möglichst früh|frühestmöglich\w*|je früher,? desto besser|gleich morgens|"
    r"vor der arbeit)\b"
)
_PART_WISH = (
    ("morning", _rx(r"\b(?:mornings?|vormittags?|morgens)\b")),
    ("afternoon", _rx(r"\b(?:afternoons?|nachmittags?)\b")),
    ("evening", _rx(r"\b(?:evenings?|abends?)\b")),
)


def time_lean(text: str) -> str | None:
    """Which end or part of a day ``text`` wishes for: "late" ("as late as possible", "end of the day", "so spät
    wie möglich"), "early" ("first thing"), "morning", "afternoon" or "evening"; None when it names none."""
    if _LATE_WISH.search(text):
        return "late"
    if _EARLY_WISH.search(text):
        return "early"
    return next((part for part, words in _PART_WISH if words.search(text)), None)


# words that say a name just given was wrong ("sorry typo, it's John Smith", "sorry, vertippt: Jonas Schmidt")
_NAME_FIX = _rx(
    r"\b(?:typo|vertippt|verschrieben|misspel\w*|misspelt|spelled wrong|falsch geschrieben|i meant|ich meinte|"
    r"meant to (?:say|write|type)|correction|korrektur|(?:the |der )?name (?:should be|sollte)|should be|sollte|actually|eigentlich|sorry|entschuldigung|"
    r"oops|ups|hoppla|wrong|falsch|richtig (?:ist|wäre|heißt)|the right name is|der richtige name ist)\b"
)


def name_correction(text: str, booked: str) -> str | None:
    """The name that corrects ``booked`` (the name just booked under) in ``text``: "sorry typo, it's John Smith",
    "sorry, vertippt: Jonas Schmidt", "the name should be Anna Berg", or a fuller or nearly the same name on its
    own ("Felix" -> "Felix Braun", "Jon Smith" -> "John Smith"); None for anything else."""
    if asks(text) or acknowledges_only(text) or GOODBYE.search(text) or NOTHING.search(text):
        return None
    cue = bool(_NAME_FIX.search(text))
    rest = re.sub(r"^[\W\s]+", "", _NAME_FIX.sub(" ", text)) if cue else text
    rest = _SAYS_NO.sub("", rest)  # "Nein, Entschuldigung, Schmidt mit dt": the correction after the no
    rest = _SPELLING_HINT.sub("", rest)
    name = extract_name(rest, expecting=True)
    if not name or len(name.split()) > 3 or name.lower() == booked.lower():
        return None
    name = _with_kept_given_name(name, booked)
    if name.lower() == booked.lower():
        return None
    shared = {w.lower() for w in name.split()} & {w.lower() for w in booked.split()}
    alike = difflib.SequenceMatcher(None, name.lower(), booked.lower()).ratio() >= 0.75
    typed = all(re.search(rf"\b{re.escape(w)}\b", text) for w in name.split())  # capitalised as typed
    return name if (cue and typed) or shared or alike else None


_SAYS_NO = _rx(r"^\W*(?:no|nope|nein|nee|ne)\b[\W\s]*")
# how a name is written, said beside it: "mit d t", "nicht mit zwei t", "with an i", "with dt"
_SPELLING_HINT = _rx(
    r",?\s*(?:(?:nicht|not)\s+)?(?:mit|with)\s+(?:(?:an?|einem|einer|zwei|two|double|doppel-?)\s+)?"
    r"(?:[a-zäöüß](?:\s+[a-zäöüß])?|[a-zäöüß]{2})\b"
)


def _with_kept_given_name(name: str, booked: str) -> str:
    """A surname corrected on its own ("Maier" for "Katrin Meyer") keeps the given name: "Katrin Maier"."""
    old = booked.split()
    if len(name.split()) != 1 or len(old) < 2:
        return name
    if difflib.SequenceMatcher(None, name.lower(), old[-1].lower()).ratio() >= 0.6:
        return " ".join([*old[:-1], name])
    return name


_NOT_NAME_WORDS = {
    "great", "perfect", "lovely", "sounds", "works", "fine", "super", "prima", "passt", "genau", "gut", "sure",
    "thank", "you", "cheers", "morning", "afternoon", "evening", "vormittag", "nachmittag", "abend", "sorry",
    "anything", "something", "earlier", "later", "sooner", "maybe", "perhaps", "else", "other", "früher",
    "später", "spätere", "späteres", "früheres", "eher", "vielleicht", "was", "etwas", "anderes", "sonst",
}  # fmt: skip
# asking for another time than the one on the table ("anything earlier?", "something later maybe", "geht es
# auch etwas früher?"): "earlier" or "later"
EARLIER = _rx(r"\b(earlier|sooner|before that|früher|eher|vorher)\b")
LATER = _rx(r"\b(later|after that|später\w*|danach)\b")

# an amount of time to move a slot by: "half an hour", "an hour and a half", "2 hours", "45 minutes",
# "eine halbe Stunde", "anderthalb Stunden", "eine Viertelstunde", "30 Minuten"
_SHIFT_AMOUNT = (
    r"(?P<amount>half an hour|a half hour|an hour and a half|one and a half hours?|a quarter of an hour|"
    r"an hour|one hour|(?:a )?couple (?:of )?hours|\d{1,3} ?(?:hours?|hrs?|minutes?|mins?)|"
    r"(?:two|three|four|2|3|4) hours?|fifteen minutes|thirty minutes|forty[- ]five minutes|"
    r"(?:eine )?halbe stunde|anderthalb stunden|eineinhalb stunden|(?:eine )?viertelstunde|"
    r"eine stunde|(?:zwei|drei|vier|\d) stunden|\d{1,3} minuten|fünfzehn minuten|dreißig minuten)"
)
# "an hour later", "half an hour earlier", "eine Stunde später", "30 Minuten früher"; also
# "push it back by an hour", "um eine halbe Stunde verschieben … später"
_TIME_SHIFT = _rx(
    _SHIFT_AMOUNT + r"\s+(?:\w+\s+)?(?P<dir>later|earlier|sooner|after|before|später|früher|eher|nach hinten|"
    r"nach vorne?)\b"
    r"|\b(?:push|move|shift|put)(?: it| that| this)? (?P<dir2>back|forward)(?: by)? "
    + _SHIFT_AMOUNT.replace("amount", "amount2")
    + r"|\b(?P<dir3>bring)(?: it| that| this)? forward(?: by)? "
    + _SHIFT_AMOUNT.replace("amount", "amount3")
)
_SHIFT_MINUTES = (
    ("quarter", 15), ("viertel", 15), ("an hour and a half", 90), ("one and a half", 90), ("anderthalb", 90),
    ("eineinhalb", 90), ("half", 30), ("halbe", 30), ("couple", 120), ("two", 120), ("zwei", 120),
    ("three", 180), ("drei", 180), ("four", 240), ("vier", 240), ("fifteen", 15), ("fünfzehn", 15),
    ("thirty", 30), ("dreißig", 30), ("forty", 45),
)  # fmt: skip


def time_shift(text: str) -> int | None:
    """Minutes to move the time talked about by ("an hour later" +60, "eine halbe Stunde früher" -30), or None."""
    m = _TIME_SHIFT.search(text)
    if m is None:
        return None
    amount = (m.group("amount") or m.group("amount2") or m.group("amount3")).lower()
    minutes = next((value for word, value in _SHIFT_MINUTES if word in amount), 60)
    if digits := re.search(r"\d+", amount):
        minutes = int(digits.group()) * (1 if re.search(r"min", amount) else 60)
    way = (m.group("dir") or m.group("dir2") or m.group("dir3")).lower()
    sign = (
        -1
        if way
        in ("earlier", "sooner", "before", "früher", "eher", "nach vorn", "nach vorne", "forward", "bring")
        else 1
    )
    return sign * minutes


def _extract_name(text: str, expecting: bool) -> str | None:
    m = _STRONG_NAME.search(text)
    if m:
        return _clean_name(m.group(1))
    for m in _WEAK_NAME.finditer(text):  # "call me back … This is Rachel Green": the one with a name
        rest = re.sub(r"^(?:for|für)\s+", "", text[m.end() :].strip(), flags=re.IGNORECASE)
        if expecting or rest[:1].isupper():
            name = _clean_name(rest)
            if name:
                return name
    m = _NAME_BEFORE.search(text) or _CALLED_NAME.search(text)
    if m:
        return _clean_name(m.group(1))
    if expecting:
        loose = _loose_names(text)
        if loose:
            return max(loose, key=lambda n: len(n.split()))
        stripped = re.sub(
            r"^\W*(yes|ja|sure|ok|okay|gern|gerne|klar)\W+", "", text.strip(), flags=re.IGNORECASE
        )
        stripped = re.sub(r"\s*(please|bitte)\W*$", "", stripped, flags=re.IGNORECASE).strip(" .!,")
        if 0 < len(stripped.split()) <= 4 and re.fullmatch(r"[^\W\d_](?:[^\W\d_]|['\- ])*", stripped):
            return _clean_name(stripped)
        # "Sue Hill, and my number is ...": the name first, then more
        head = re.split(r"\s*[,;:]\s*|\s+(?:and|und)\s+", stripped, maxsplit=1)[0].strip(" .!")
        if (
            head != stripped
            and 0 < len(head.split()) <= 3
            and re.fullmatch(r"[^\W\d_](?:[^\W\d_]|['\- ])*", head)
        ):
            return _clean_name(head)
    return None


_RELATIVE = (
    r"husband|wife|son|daughter|child|kid|boy|girl|mother|mum|mom|father|dad|partner|boyfriend|girlfriend|"
    r"friend|grandmother|grandma|grandfather|grandpa|brother|sister|colleague|"
    r"mann|frau|sohn|tochter|kind|mutter|mama|vater|papa|partner\w*|freund\w*|oma|opa|bruder|schwester|kolleg\w*"
)
_FOR_OTHER = re.compile(
    rf"\b(?i:for my|for our|für meinen|für meine|für unseren|für unsere|für mein)\s+(?i:{_RELATIVE})\b"
    r",?(?:\s+(?![Oo]n\b|[Aa]t\b|[Aa]m\b|[Uu]m\b)([A-ZÄÖÜ][a-zäöüß]+(?:\s+[A-ZÄÖÜ][a-zäöüß]+)?))?"
)
_NOT_A_RELATIVES_NAME = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "montag", "dienstag",
    "mittwoch", "donnerstag", "freitag", "samstag", "sonntag", "today", "tomorrow", "heute", "morgen", "next",
}  # fmt: skip


def booking_for_other(text: str) -> tuple[bool, str | None] | None:
    """Whether ``text`` books for someone else ("for my husband", "for my son Leo", "für meine Tochter Mia")
    and that person's name when it is said; None when it does not."""
    m = _FOR_OTHER.search(text)
    if m is None:
        return None
    name = m.group(1)
    if name and name.split()[0].lower() in _NOT_A_RELATIVES_NAME:
        name = None
    return True, name


_OWN_NAME_INTRO = _rx(
    r"\b(?:my name is|my name'?s|mein name ist|ich heiße|ich heisse|this is|i am|i'?m|ich bin|hier ist|"
    r"hier spricht)\s+"
)


def introduces_self(text: str, name: str) -> bool:
    """Whether ``text`` gives ``name`` as the speaker's own ("this is Sarah Klein", "mein Name ist …"), not
    someone else's ("it's for my son - Leo Brandt", "his name is Daniel Roth")."""
    return any(text[m.end() :].startswith(name) for m in _OWN_NAME_INTRO.finditer(text))


def choice_index(text: str) -> int | None:
    """ "the first one" -> 0, "den letzten" -> -1 (a pick among offered options), else None."""
    for index, words in _CHOICES:
        if re.search(rf"\b({words})\b(\s+(one|option|time|termin|uhrzeit))?", text, re.IGNORECASE):
            return index
    return None


_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "null": "0", "eins": "1", "zwei": "2", "zwo": "2",
    "drei": "3", "vier": "4", "fünf": "5", "sechs": "6", "sieben": "7", "acht": "8", "neun": "9",
}  # fmt: skip


def extract_phone(text: str) -> str | None:
    """A phone number in ``text`` (at least 6 digits), as written; digits said as words ("zero one seven
    six, five five …", "null eins sieben …") are written as digits."""
    for m in _PHONE.finditer(text):
        if len(re.sub(r"\D", "", m.group(0))) >= 6:
            return m.group(0).strip()
    run = ""
    for token in [*re.findall(r"[^\W_]+", text.lower()), ""]:
        digit = token if token.isdigit() else _DIGIT_WORDS.get(token)
        if digit is not None:
            run += digit
        elif len(run) >= 6:
            return run
        else:
            run = ""
    return None


def said_besides_name(text: str, name: str) -> str:
    """What the answer to "What's your name?" says besides ``name``: "Sue Hill, I need to cancel my massage on
    Friday" -> "I need to cancel my massage on Friday"; "" when that is fewer than three words ("It's Tom
    Becker", "Weber, Karin Weber", "Jonas Weber, bitte")."""
    rest = remove_name_clause(text)
    for word in sorted(set(name.split()), key=len, reverse=True):
        rest = re.sub(rf"\b{re.escape(word)}\b", " ", rest, flags=re.IGNORECASE)
    rest = _LEAD_IN.sub("", re.sub(r"^[\W\s]+", "", rest))
    rest = re.sub(r"^(?:here|speaking|hier|am apparat)\b", "", rest.strip(), flags=re.IGNORECASE)
    rest = re.sub(r"\s+", " ", rest).strip(" ,.;:!-–—")
    return rest if len(rest.split()) >= 3 else ""


_NAME_CLAUSE = _rx(
    r"\b(?:my name is|my name'?s|the name is|mein name ist|ich heiße|ich heisse|der name ist)\s+"
    r"[^\W\d_]+(?:\s+[^\W\d_]+)?(?:\s*[,.;:!?]+|\s+(?:and|und)\b)?"
)


def remove_name_clause(text: str) -> str:
    """The text without "my name is …" (what remains of a message)."""
    text = _NAME_CLAUSE.sub("", text)
    text = re.sub(
        r"\b(this is|here is|hier ist|ich bin)\s+(?:(?:Frau|Herr|Mr|Mrs|Ms|Dr)\.? )?[A-ZÄÖÜ]\w+( [A-ZÄÖÜ]\w+)?",
        "",
        text,
    )
    text = re.sub(r"(?:\s*[,;.]){2,}\s*", ". ", text)  # "Hallo, . Ich bin …" -> "Hallo. Ich bin …"
    return _GREETING_LEAD.sub("", text.strip(" ,.")).strip(" ,.")


def callee_name(greeting: str) -> str | None:
    """The business name in an answering greeting: "Good morning, Miller dental practice, how can I help you?"."""
    parts = re.split(r"[,!?;]|(?<!Dr)(?<!St)(?<!Nr)\.(?=\s|$)", greeting)
    skip = _rx(
        r"^(good (morning|afternoon|evening|day)|hello|hi|hey|yes|yeah|guten (morgen|tag|abend)|hallo|"
        r"grüß gott|moin|servus|ja|you'?re speaking|speaking|am apparat|how (can|may) i help|what can i do|"
        r"wie kann ich|was kann ich|thank you for calling|danke für ihren anruf)\b"
    )
    for part in parts:
        p = re.sub(
            r"^\s*(this is|you'?ve reached|you are through to|welcome to|hier ist|hier spricht|sie sprechen mit)\s+",
            "",
            part.strip(),
            flags=re.IGNORECASE,
        ).strip(" .")
        p = _GREETING_TAIL.sub("", p).strip(" .")  # "Miller dental good morning" (no comma heard)
        if not p or skip.search(p) or len(p.split()) > 6:
            continue
        if re.search(r"\b(how|what|can|help|wie|was)\b", p, re.IGNORECASE):
            continue
        if _NOT_A_NAME_START.match(p):  # "another dental practice": a misheard name, not a name
            continue
        # a name, not a misheard fragment ("to launch it"): a capitalised word or a word businesses use
        if any(w[:1].isupper() for w in p.split()) or _BUSINESS_WORDS.search(p):
            return p
    return None


_GREETING_TAIL = _rx(
    r"\s+(good (morning|afternoon|evening|day)|hello|hi|guten (morgen|tag|abend)|hallo|grüß gott|moin|servus|"
    r"buongiorno|buonasera|bonjour|speaking|am apparat)\s*$"
)
_NOT_A_NAME_START = re.compile(r"(another|an?|the|some|any|your|our|my|eine?|der|die|das|unsere?)\b")
_BUSINESS_WORDS = _rx(
    r"\b(practice|praxis|salon|clinic|klinik|office|studio|dental|dentist|doctor|dr|friseur|zahnarzt\w*|"
    r"physio\w*|cent(er|re)|zentrum|surgery|restaurant|garage|werkstatt|kanzlei|büro|shop|laden)\b"
)


def _article(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou" else "a"


# a title that names the place rather than what is booked ("Vet", "Dentist", "Garage")
_PLACE_TITLE = _rx(
    r"(the )?(vet|dentist|doctor|gp|garage|hairdresser|barber|salon|clinic|practice|physio|physiotherapist|"
    r"restaurant|optician|workshop|mechanic)"
)


def purpose(request: BookingRequest, lang: str) -> str:
    """What Lisa wants to book, as the end of "I'd like to book …" / "Ich hätte gern …"."""
    title = request.title.strip().rstrip(".")
    desc = request.description.strip().rstrip(".")
    if lang == "de":
        m = re.match(
            r"^(ich (brauche|benötige|möchte|hätte gern|hätte gerne|suche|will))\s+(.+)$", desc, re.I
        )
        if m:
            return m.group(3)
        m = re.match(r"^(.+?)\s+(buchen|vereinbaren|machen)$", title, re.I)
        base = f"einen Termin: {m.group(1) if m else title}"
        return f"{base}, {desc}" if desc and desc.lower() not in title.lower() else base
    m = re.match(
        r"^(i (need|would like|'d like|want|am looking for|'m looking for))( to book)?\s+(.+)$", desc, re.I
    )
    if m:
        return m.group(4)
    m = re.match(r"^(book|schedule|make|get)\s+(.+)$", title, re.I)
    low_desc = desc[:1].lower() + desc[1:]
    if not m and desc and (desc.lower().startswith(title.lower()) or _PLACE_TITLE.fullmatch(title)):
        # "Physio" + "Physio for my knee", "Vet" + "Vaccination for my dog": not "a physio (physio for …)"
        return f"an appointment for {low_desc}"
    if m:
        base = m.group(2)
    elif title.lower().endswith("s") and not title.lower().endswith("ss"):
        base = title[:1].lower() + title[1:]  # "haircuts", not "a haircuts"
    else:
        low = title[:1].lower() + title[1:] if title[:2] != title[:2].upper() else title
        base = f"{_article(low)} {low}"
    if desc and desc.lower() not in base.lower():
        return f"{base} ({desc[:1].lower() + desc[1:]})"
    return base


def spoken_preference(preferred: str, lang: str) -> str:
    """The preferred time as Lisa says it: "next week, Monday 10-12" -> "next week, Monday between 10 and 12"."""

    def between(m: re.Match[str]) -> str:
        return phrase(lang, "outbound.between", a=m.group(1), b=m.group(2))

    text = re.sub(
        r"(\d{1,2}(?:[:.]\d\d)?)\s*[-–]\s*(\d{1,2}(?:[:.]\d\d)?)(?:\s*uhr)?",
        between,
        preferred.strip(),
        flags=re.I,
    )
    text = text.strip(" .,;:!?")  # "Monday?" written in a form: the wish; "?" or "-": nothing
    return text if re.search(r"[^\W_]", text) else ""


_WEEKDAY_WORDS = {
    "en": ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
    "de": ("montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag"),
}


def preferred_day_phrase(preferred: str, lang: str) -> str:
    """ "on Friday" / "am Freitag" when the preferred time names a weekday, else "then" / "zu der Zeit"."""
    low = preferred.lower()
    for i, word in enumerate(_WEEKDAY_WORDS["en"] + _WEEKDAY_WORDS["de"]):
        if re.search(rf"\b{word}", low):
            day = _WEEKDAY_WORDS[lang][i % 7].capitalize()
            return phrase(lang, "outbound.on_day", day=day)
    return phrase(lang, "outbound.then")


def safe_parse_when(text: str, now: datetime, lang: str) -> When | None:
    """``agent.when.parse_when`` that never raises (a parser hiccup must not break the call)."""
    from agent.when import parse_when

    try:
        return parse_when(text, now, lang)
    except Exception:
        log.exception("parse_when failed")
        return None


# what may stand around a time said alone ("ugh ok, 5:30 then", "12 works better", "na gut, dann lieber um elf")
_AROUND_A_TIME = _rx(
    r"\b(ugh|hmm+|mhm|ok(ay)?|alright|all right|fine|sure|yes|yeah|oh|ah|well|actually|then|instead|rather|please|at|"
    r"make it|let'?s (do|say)|how about|what about|can (we|i) do|works?( better)?|(is|would be) (better|fine|good)|"
    r"better|na|gut|ja|dann|lieber|doch|eigentlich|stattdessen|bitte|um|geht( auch)?|passt|ginge|wäre (besser|gut)|besser)\b"
)


def time_alone(text: str, now: datetime, lang: str) -> When | None:
    """A time said without a day while a slot is talked about ("ok, 12 then", "ugh ok, 5:30 then", "lieber um
    elf"): that time, else None. Only short answers: a longer text is parsed as a whole."""
    from agent.when import parse_bare_time

    if len(text.split()) > 8:
        return None
    rest = re.sub(r"[\s,.;:!?-]+", " ", _AROUND_A_TIME.sub(" ", text)).strip()
    try:
        return parse_bare_time(rest, now, lang) if rest else None
    except Exception:
        log.exception("parse_bare_time failed")
        return None


# ------------------------------------------------------------------ inbound: fillers, corrections, messages

FILLER_WORDS = _rx(
    # "um" before an hour is German "at" ("Um 10", "um halb elf"), not a filler
    r"^\W*(?:(?:uh+(?![\s-]*huh)|um+(?!\s+(?:\d|(?:ein|eins|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|"
    r"zwölf|halb|viertel|dreiviertel|mittag|wie viel)\b))|umm|err+|erm+|hm+|hmm+|ah+|äh+m?|öh+m?|ehm|mh+)\b|"
    r"(?:(?:hang on|hold on|wait|one|just|give me)(?: (?:a|one|just a))? (?:sec(?:ond)?|moment|minute|tick)|"
    r"hang on|hold on|wait|(?:a|one) (?:sec(?:ond)?|moment|minute)|sec|"
    r"let me (?:think|see|check|have a look|look)(?: about it| for a second)?|let'?s see|"
    r"moment mal|moment bitte|moment|einen (?:moment|augenblick)(?: bitte)?|augenblick(?: mal)?|sekunde|"
    r"eine sekunde|warte mal|warten sie(?: mal)?|mal (?:sehen|schauen|überlegen)|"
    r"lassen sie mich (?:kurz )?(?:überlegen|nachdenken|nachsehen|nachschauen|schauen)|"
    r"ich (?:überlege|schaue?|schau) (?:mal|kurz)(?: nach)?)\b)\W*"
)
"""One filler at the start of a turn ("uh", "hang on", "Moment mal"); see :func:`strip_fillers`."""


def strip_fillers(text: str) -> str:
    """``text`` without the fillers it starts with: "Uh, hang on, Friday at ten" -> "Friday at ten";
    a turn that is only fillers ("Hang on.", "Moment mal", "uh, let me think") gives ""."""
    rest = text.strip()
    for _ in range(6):
        m = FILLER_WORDS.match(rest)
        if not m or not m.group(0):
            break
        rest = rest[m.end() :]
    stripped = rest != text.strip()
    return "" if stripped and re.fullmatch(r"\W*(please|bitte)?\W*", rest, re.I) else rest.strip()


_CORRECTION = _rx(
    r"(?:\b(?:no|nope|sorry|wait|actually|i mean|rather|or rather|make (?:it|that)|scratch that|correction|"
    r"ach nein|nein|äh nein|ich meine|lieber|doch lieber|oder besser|besser|vielmehr|korrektur)\b|"
    r"\binstead\b(?!\s+of))"
)


# a bare hour right after a weekday ("is friday 4 ok", "Freitag 16 ginge?"); no date ("Freitag 4. Dezember"),
# no amount ("Friday 2 people")
_WEEKDAY_HOUR = _rx(
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|montag|dienstag|mittwoch|donnerstag|freitag|"
    r"samstag|sonntag)s?,?\s+(\d{1,2}(?:[:.]\d{2})?)(?![\d:]|\.\s*\w|\s*(?:st|nd|rd|th)\b|\s*(?:minutes?|mins?|"
    r"hours?|days?|weeks?|people|persons?|personen|minuten|stunden|tage?n?|wochen)\b)"
)


def _with_weekday_hour(text: str, when: When | None, now: datetime, lang: str) -> When | None:
    """``when`` with the hour said bare after its weekday ("hi, I'd like a massage, is friday 4 ok" -> Friday at
    4 pm), which the parser leaves out; ``when`` as it is otherwise."""
    if when is None or when.day is None or when.time is not None or when.earliest or when.latest:
        return when
    m = _WEEKDAY_HOUR.search(text)
    hour = time_alone(m.group(1), now, lang) if m else None
    if hour is None or hour.time is None:
        return when
    from dataclasses import replace

    return replace(when, time=hour.time)


def parse_when_corrected(text: str, now: datetime, lang: str) -> When | None:
    """What ``text`` says about day and time, where a self-correction wins: "Thursday at ten — no, rather
    Friday at ten" / "Donnerstag um zehn, ach nein, lieber Freitag" -> Friday at ten (what the correction
    leaves out is kept from before it: "Friday at nine, no, at ten" -> Friday at ten)."""
    whole = _with_weekday_hour(text, safe_parse_when(text, now, lang), now, lang)
    if whole is None or whole.is_empty:
        return whole
    for m in reversed(list(_CORRECTION.finditer(text))):
        head, tail = text[: m.start()], text[m.start() :]
        before = safe_parse_when(head, now, lang) if head.strip() else None
        if before is None or before.is_empty:
            continue
        after = safe_parse_when(tail, now, lang)
        if after is None or after.is_empty:
            bare = _CORRECTION.sub("", tail).strip(" ,.!-–—")
            if before.time is not None and re.fullmatch(r"[\w:.]+(?:\s+\w+)?", bare or "-"):
                after = safe_parse_when(("um " if lang == "de" else "at ") + bare, now, lang)
        if after is not None and not after.is_empty:
            return before.combine(after)
    return whole


# ------------------------------------------------------------------ inbound: a day in a story is no wish

# what makes a day or time in a clause the caller's wish: asking, booking, being free, preferring
_WISH_CUE = _rx(
    r"\?|\b(?:would|could|can|may|might|shall|works?(?= for|\W*$)|suits?|good|fine|great|perfect|possible|free|off|open|"
    r"available|time|okay|ok|how about|what about|do you have|have you got|any(?:thing)?|is there|are there|"
    r"like|want|wanted|need|needed|prefer\w*|rather|ideally|best|better|hop(?:e|ed|ing)|wonder\w*|"
    r"thinking|thought|guess|suppose|let'?s|put me|come|coming|make it|book\w*|appointment|slot|session|"
    r"passt|passen|geht|gehen|ginge|könnte\w*|kann|können|würde\w*|wäre|gut|frei|zeit|möglich|hätte\w*|"
    r"haben sie|gibt es|möchte\w*|will|wollte|brauche\w*|bräuchte|gern|gerne|lieber|liebsten|hoffe\w*|"
    r"dachte|denke|vielleicht|kommen|komme|vorbei\w*|termin\w*|"
    r"said|say|meant|sagte|gesagt|meinte|sagen|take|nehme|nehmen)\b"  # "no, I said Monday", "ich nehme Montag"
)
# who a story is about: a subject ("my daughter starts school on Monday", "am Sonntag war ich wandern")
_SUBJECT = _rx(
    r"\b(?:i|we|he|she|they|you|it|my|our|his|her|their|the|a|an|there|"
    r"ich|wir|er|es|man|du|ihr|mein\w*|unser\w*|sein\w*|ihre\w*|der|die|das|dem|den|ein|eine\w*)\b"
)
_ARTICLES = {"a", "an", "the", "ein", "eine", "einen"}
_PREPOSITIONS = {
    "for", "with", "to", "of", "about", "from", "by", "into", "für", "mit", "zu", "zur", "zum", "von", "vom", "über",
    "bei", "beim", "nach", "wegen", "gegen", "auf", "an", "in",
}  # fmt: skip
_WISH_SPLIT = re.compile(
    r"(?<=[.!;])\s+|\s*[,:–—]\s*|\s+(?=(?:but|so|because|aber|weil|denn|deshalb|deswegen)\b)", re.IGNORECASE
)
_STORY_FILLERS = {
    "oh", "ah", "uh", "um", "well", "so", "and", "then", "also", "just", "really", "yes", "yeah", "no", "ok",
    "okay", "on", "at", "in", "for", "of", "to", "last", "next", "this", "week", "morning", "afternoon", "evening",
    "und", "dann", "ja", "nein", "am", "im", "an", "zum", "letzte", "letzten", "nächste", "nächsten",
    "woche", "vormittag", "nachmittag", "abend", "morgens", "mal", "schon", "noch", "bitte", "please",
}  # fmt: skip


# "No", "Nope, sorry", "Nein", "Actually" before what a caller tells ("No my daughter starts school on Monday")
_ANSWER_LEAD = _rx(r"^\W*(?:(?:no|nope|nah|nein|nee|ne|sorry|actually|well|oh|ach|äh|also|leider)\b\W*)+")


def _tells(clause: str, now: datetime, lang: str) -> bool:
    """Whether ``clause`` names a day or time in a statement about something else, not as a wish: a subject
    and what it did or does, and no word of asking, booking or being free ("The bus is painted green on
    Sunday", "my daughter starts school on Monday", "am Sonntag war ich wandern")."""
    when = safe_parse_when(clause, now, lang)
    if when is None or when.is_empty or _WISH_CUE.search(clause):
        return False  # a wish
    # a wish corrected ("no, sorry, I mean at eleven"); a "no" before a story corrects nothing
    if _CORRECTION.search(_ANSWER_LEAD.sub("", clause)):
        return False
    rest = clause.replace(when.text, " ") if when.text else clause
    words = re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", rest.lower())
    said = [w for w in words if w not in _STORY_FILLERS]
    subject = any(  # "for a massage", "für die Massage" name no subject
        _SUBJECT.fullmatch(w) and (i == 0 or words[i - 1] not in _PREPOSITIONS) for i, w in enumerate(words)
    )
    if len(said) == 2 and said[0] in _ARTICLES:
        return False  # "monday at 9 a massage please", "Montag um 9 eine Massage": what is wished, no story
    return subject and len(said) >= 2


# a day or time the caller turns down ("Tuesday doesn't work for me after all", "Dienstag kann ich doch nicht")
_REFUSED_DAY = _rx(
    r"\b(?:(?:can'?t|cannot|can not|won'?t|couldn'?t) (?:do|make|come|manage)|(?:doesn'?t|does not|won'?t|wouldn'?t) "
    r"(?:work|suit)|(?:isn'?t|is not|not) (?:good|possible|great)|no good|"
    r"kann ich (?:\w+ )?(?:doch |leider |dann )?nicht|(?:geht|passt|klappt) (?:\w+ )?(?:doch |leider |mir |dann )?nicht|"
    r"schaffe? ich (?:doch |leider )?nicht)\b"
)


def turns_down(text: str) -> bool:
    """Whether ``text`` turns a day or time down ("that doesn't work for me after all", "passt doch nicht")."""
    return bool(_REFUSED_DAY.search(text))


_UNKNOWN: Any = object()  # ``whole`` not worked out yet (None is an answer: no day or time)


def wished_when(text: str, now: datetime, lang: str, whole: When | None = _UNKNOWN) -> When | None:
    """What ``text`` says about the day and time the caller wants (see :func:`parse_when_corrected`), without the
    days and times it only tells of: "My daughter starts school on Monday, so Tuesday at ten" -> Tuesday at ten;
    "The bus is painted green on Sunday" -> nothing. A bare answer ("Monday", "on Sunday maybe"), a question or
    a clause with a wish in it ("Sunday would be great", "hätten Sie am Montag Zeit") is a wish. ``whole``:
    :func:`parse_when_corrected` of ``text`` when already known (None included)."""
    whole = parse_when_corrected(text, now, lang) if whole is _UNKNOWN else whole
    if whole is None or whole.is_empty:
        return whole
    clauses = [c for c in _WISH_SPLIT.split(text) if c and c.strip()]
    told = [c for c in clauses if _tells(c, now, lang)]
    refused = [c for c in clauses if c not in told and _REFUSED_DAY.search(c)]
    if refused and len(refused) < len(clauses) - len(told):
        # "Tuesday doesn't work after all. Wednesday, same time?": the day turned down is no wish
        told += refused
    if not told:
        return whole
    rest = ", ".join(c for c in clauses if c not in told)
    return parse_when_corrected(rest, now, lang) if rest.strip() else None


PASS_ON = _rx(
    r"\b(?:(?:please |could you |can you |would you )?(?:tell|inform|let) (?:her|him|them|the (?:team|doctor|therapist)|"
    r"(?:(?:dr|mr|mrs|ms|miss|doctor)\.?|(?:prof|professor|frau|herrn?)\b\.?|(?:fr|hr)\.) ?[a-z]\w*)(?: know)?|pass (?:it|this|that|the message|a message) on|"
    r"pass on|let (?:her|him|them|the team|(?!(?:me|us|you|it|that|this)\b)[a-zäöüß]+) know|"
    r"give (?:her|him|them) (?:the|a) message|leave word|"
    r"ausrichten|richten sie\b.*\baus|bescheid (?:geben|sagen)|(?:sagen|geben) sie (?:bitte )?(?:ihr|ihm|frau|herrn|herr|"
    r"dr\.?|doktor|prof\.?|professor\w*|fr\.|hr\.)(?!\w)|mitteilen|informieren sie)"
)
"""Passing a message on to someone ("please tell Ms. Lang", "Können Sie Frau Lang ausrichten")."""
EXISTING_APPOINTMENT = _rx(
    r"\b(?:(?:won'?t|can'?t|cannot|will not|unable to|not able to|couldn'?t|not going to|am not going to) "
    r"(?:be able to )?(?:make|come|attend|keep|be there|get there)|cancel\w*|call off|running late|"
    r"(?:be|am|i'?m|i'?ll be) (?:a (?:bit|little) |\w+ minutes )?late|late for|running (?:\w+ ){1,4}late|"
    r"(?<!to )(?:i|we|she|he) ?(?:have|has|had|'ve got|'ve|got) an? (?:appointment|session|booking) "
    r"(?:at|on|today|tonight|tomorrow|this|next|with)|"
    r"ich habe (?!(?:\w+ ){0,4}kein)(?:\w+ ){0,4}(?:einen |meinen )?termin\b|"
    r"(?:move|reschedule|postpone|shift|change|push) (?:my|it|that|the appointment|the session)\b(?! (?:out|in)\b)|my (?:\d{1,2}(?:[:.]\d\d)?|one|two|three|four|five|six|seven|"
    r"eight|nine|ten|eleven|twelve)(?: ?(?:o'?clock|am|pm|thirty))?(?: (?:appointment|session))?\b(?! (?:am|pm))|"
    r"miss(?:ing)? my|my (?:appointment|session) (?:on|at|tomorrow|today|this|next)|"
    r"schaff\w* (?:\w+ ){0,5}nicht|nicht (?:\w+ ){0,2}(?:schaffen|kommen|wahrnehmen)|absagen|abzusagen|"
    r"stornier\w*|verschieben|verlegen|verspäte\w*|zu spät|(?:etwas |ein paar minuten |\w+ minuten )?später (?:kommen|da)|"
    r"mein(?:en)? termin (?:am|um|morgen|heute|nächste)|meinen termin)\b"
)
"""Talk about an appointment the caller already has (can't make it, late, cancel, "my 3 o'clock")."""
# a question about the appointment just booked in this conversation ("wait, what day is that booked for?",
# "what time is my appointment?", "so is it 2:30 now?" is not one: that names a time)
ASKS_BOOKED = _rx(
    r"\b(?:what (?:day|time|date)|which (?:day|time|date)|when)\b[^.!?]{0,30}\b(?:booked|appointment|is it|is that|"
    r"was it|was that|am i (?:booked|in|coming))\b|"
    r"\b(?:wann|um wie ?viel uhr|an welchem tag|welches datum|welcher tag)\b[^.!?]{0,25}\b(?:war|ist|bin)\b[^.!?]{0,25}"
    r"\b(?:das|der termin|mein termin|es|ich (?:eingetragen|gebucht|dran))\b|"
    r"\b(?:wann|welches datum|welcher tag) (?:war|ist) das\b|"
    # "both booked then?", "is that booked now?", "sind beide eingetragen?", "ist das jetzt gebucht?"
    r"\b(?:both|all|everything|beide|alle|alles|is (?:it|that|this))\b[^.!?]{0,15}\b(?:booked|eingetragen|gebucht)\b|"
    r"\b(?:ist|sind) (?:das|es|beide|alle)\b[^.!?]{0,15}\b(?:eingetragen|gebucht)\b"
)
ASKS_EXISTING = _rx(
    r"\b(?:(?:confirm|check|verify|look up|remind me (?:of|about)|what time is|what day is|when is|when'?s) "
    r"(?:again )?my (?:appointment|booking|session)|(?:appointment|booking|session) i (?:booked|made|have)|"
    r"i (?:already |just )?(?:booked|made (?:an|the) appointment) (?:on|over|by) the phone|"
    r"i (?:already )?booked (?:\w+ ){0,3}(?:yesterday|last week|earlier|before)|"
    r"(?:wann|um wie ?viel uhr|an welchem tag) (?:ist|war) (?:nochmal |noch mal |denn |eigentlich )*mein(?:e)? "
    r"(?:termin|buchung)|mein(?:en)? termin (?:bestätigen|nachschauen|nachsehen|prüfen|überprüfen)|"
    r"(?:bestätigen|prüfen) sie (?:mir )?(?:bitte )?(?:meinen|den) termin|"
    r"(?:ich )?habe (?:\w+ ){0,3}(?:telefonisch|am telefon|gestern|schon|bereits) (?:\w+ ){0,3}"
    r"(?:gebucht|ausgemacht|vereinbart))\b"
)
"""A question about an appointment booked before ("can you confirm my appointment time? I booked on the phone
yesterday", "wann ist nochmal mein Termin?"): Lisa cannot see it, so it is passed on as a message."""
CANCEL_OR_MOVE = _rx(
    r"\b(?:cancel\w*|call off|reschedul\w*|postpone|move (?:my|it|that|the appointment|the session)|absagen|abzusagen|"
    r"stornier\w*|verschieben|verlegen)\b"
)
"""Cancelling or moving an appointment: passed on as a message even when "book" or "Termin" occurs."""
# the appointment just talked about cancelled: "actually cancel it", "please cancel that booking", "scrap that",
# "stornieren Sie das bitte wieder", "den Termin bitte wieder absagen", "können Sie ihn streichen?"
CANCEL_THIS = _rx(
    r"\b(?:(?:cancel|call off|scrap|drop|delete)\s+(?:it|that|this|(?:the|my|this|that)\s+(?:\w+\s+)?"
    r"(?:appointment|booking|session|massage|one))|"
    r"(?:stornier\w*|streich\w*|lösch\w*)\s+(?:sie\s+|du\s+)?(?:das|den(?: termin)?|ihn|es|diesen termin)|"
    r"(?:das|den termin|ihn|es|diesen termin)\s+(?:\w+\s+){0,3}(?:stornieren|absagen|streichen|löschen))\b"
)
"""Cancelling the appointment talked about (not asking how to: see :data:`ASKS_HOW`)."""
# asking how cancelling or moving works rather than asking for it: "how do I cancel", "wie kann ich absagen"
ASKS_HOW_TO = _rx(
    r"\b(?:how (?:do|can|would|should) (?:i|you|we)|what if|what happens if|wie (?:kann|muss|soll) (?:ich|man)|"
    r"was (?:passiert|ist),? wenn)\b"
)
ASKS_HOW = _rx(
    r"\b(?:how (?:do|can|would)|what if|can i|could i|wie (?:kann|muss|geht)|was (?:ist|passiert),? wenn)\b"
)
BOOK_REQUEST = _rx(
    r"\b(?:book (?:me|us|it|him|her|an?|for|in|that|friday|monday|tuesday|wednesday|thursday)|"
    r"make (?:me )?an? (?:new )?appointment|(?:i'?d|i would|i want|i'?d like|i need|i wanna|can i|could i|may i) "
    r"(?:like )?(?:to )?(?:(?:book|get|have|make|schedule) )?(?:an?|another|a new) ?(?:new )?(?:appointment|session|slot)|"
    r"(?:i'?d|i would) like to book|i want to book|can i book|could i book|schedule me|put me down|"
    r"(?:einen|neuen) (?:neuen )?termin (?:buchen|vereinbaren|machen|ausmachen|haben)|buchen sie|"
    r"tragen sie mich|(?:ich möchte|ich hätte gern|ich hätte gerne|ich brauche|ich würde gern) (?:einen )?(?:neuen )?termin|"
    r"(?:möchte|will|würde gern) (?:\w+ )?buchen|"
    r"(?:i'?d|i would) (?:rather|prefer to|sooner) (?:just )?(?:book|have|get|make|come)|"
    r"(?:möchte|will|würde|hätte|brauche)(?: (?:gern|gerne|lieber|doch|dann|jetzt|eher|einfach)){0,2} (?:einen |ein )?"
    r"(?:neuen )?termin\w*(?: \w+){0,6} (?:buchen|vereinbaren|ausmachen|machen|haben)|"
    r"(?:möchte|will|würde|hätte|brauche)(?: (?:gern|gerne|lieber|doch|dann|jetzt|eher|einfach)){1,2} (?:einen |ein )?(?:neuen )?termin)\b"
)
"""An explicit request for a (new) booking ("book me for Friday at nine", "ich möchte einen Termin")."""


_GREETING_LEAD = _rx(
    r"^\W*(?:(?:hi|hello|hey|hallo|guten (?:tag|morgen|abend)|(?:good )?(?:morning|afternoon|evening)|moin|servus|"
    r"grüß gott)(?: there| lisa)?\b\W*)+"
)
# the request at the end of what comes before "… ausrichten?" / "… leave a message for her?"
_REQUEST_TAIL = _rx(
    r"[\s,.;:!?]*(?:\b(?:and |und |so |also )?(?:(?:can|could|would|will) you|(?:können|könnten|würden) sie|please|"
    r"bitte)\b[^.?!,;]*)?[\s,.;:!?]*$"
)


def message_body(text: str) -> str:
    """What the caller wants passed on, from the turn that asks for it: the words after "leave a message
    for Ms Lang:" / "… ausrichten, dass …", or else those before the request ("Ich schaffe meinen Termin
    morgen nicht. Können Sie das Frau Lang ausrichten?"); "" when fewer than three words are left."""
    m = MESSAGE.search(text)
    if not m:
        return text.strip(" .,:")
    after = text[m.end() :]
    recipient = message_recipient(after) or message_recipient(text)
    lead = (
        r"^\W*(?:hinterlassen|ausrichten|lassen|that|dass|(?:for|für|to|an)\b\s*(?:{0}|her|him|them|ihn|sie|"
    )
    lead += r"(?:the|die|den|der|dem|das|my|meine[nm]?) \w+)?)\b"
    lead = lead.format(re.escape(recipient) if recipient else "(?!)")
    # "ausrichten, dass ich … nachreichen kann": the verb comes last, so the clause keeps its "dass"
    dass = re.match(r"\W*(?:(?:hinterlassen|ausrichten|lassen)\W+)?dass\b", after, flags=re.IGNORECASE)
    for _ in range(4):
        after = re.sub(lead, "", after.strip(), flags=re.IGNORECASE)
    after = after.strip(" .,:?!")
    if len(after.split()) >= 3:
        return f"dass {after}" if dass else after
    before = _GREETING_LEAD.sub("", _REQUEST_TAIL.sub("", text[: m.start()]))
    before = re.sub(
        r"\b(?:i'?d like to|i would like to|i want to|i need to|i have to|i wanted to|can i|could i|may i|"
        r"ich möchte|ich würde gern|ich muss|kann ich|könnte ich)(?: (?:eine|a|to))?\W*$",
        "",
        before,
        flags=re.I,
    )
    before = _bare_request(before)
    return before if len(before.split()) >= 3 else ""


_REQUEST_LEAD = _rx(
    r"^\W*(?:i'?d like to|i would like to|i want to|i wanted to|can i|could i|ich möchte|ich würde gern|"
    r"ich wollte|kann ich|könnte ich)\b"
)


def _bare_request(before: str) -> str:
    """What is left of the words before "ausrichten"/"leave a message" once the request itself, its addressee
    and "etwas"/"something" are gone ("Ich möchte Frau Berger etwas" -> "")."""
    if (to := message_recipient(before)) is not None:
        before = before.replace(to, " ")
    before = re.sub(r"\b(?:etwas|something|was)\b", " ", _REQUEST_LEAD.sub("", before), flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", before).strip(" .,:;")


# titles before a name, also abbreviated with a dot that ends no sentence ("Frau Dr. Berg", "Hr. Prof. Weiß")
_TITLE = r"(?:Dr|Prof|Mr|Mrs|Ms|Miss|Doctor|Professor(?:in)?|Frau|Fr|Herrn?|Hr|Doktor)"
# capitalised words after a name that are no part of it ("tell Ms. Lang I'll be late", "Frau Lang Bescheid sagen")
_NOT_RECIPIENT = (
    r"I|Ich|Sie|Ihr|Ihm|Bescheid|Termin|Nachricht|Grüße|Gruß|Danke|Bitte|Heute|Morgen|Today|Tomorrow|"
    r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Montag|Dienstag|Mittwoch|Donnerstag|Freitag|"
    r"Samstag|Sonntag"
)
_RECIPIENT = re.compile(
    rf"\b({_TITLE}\.?(?: {_TITLE}\b\.?)*"  # "Frau Dr.", "Herrn Prof. Dr."
    rf"(?: (?!(?:{_TITLE}|{_NOT_RECIPIENT})\b)(?:St\. ?|Sankt )?(?:(?:von|van|de|der|zu) )?"
    r"[A-ZÄÖÜ](?:[\w\-]|['’](?=[A-ZÄÖÜ]))+\b(?!['’])){1,2})"  # "Dr. O'Brien", not "Lang I'll"
)


def message_recipient(text: str) -> str | None:
    """Whom a message is for: "please tell Ms. Lang" -> "Ms. Lang", "Frau Lang ausrichten" -> "Frau Lang",
    "für Frau Dr. Berg" -> "Frau Dr. Berg" (a title's dot ends no name), "a message for Markus" -> "Markus"."""
    for m in _RECIPIENT.finditer(text):
        if not _SELF_INTRO.search(text[: m.start()]):  # "hier ist Frau Berger" is the caller
            return m.group(1).strip()
    first = _FIRST_NAME_RECIPIENT.search(text)
    return first.group(1) if first else None


# a message for someone named by first name only: "a message for Markus", "pass a message to Anna",
# "eine Nachricht für Jonas"
_FIRST_NAME_RECIPIENT = re.compile(
    rf"\b(?i:message for|message to|note for|pass (?:\w+ ){{0,2}}(?:on )?to|nachricht für|nachricht an)\s+"
    rf"(?!(?:{_NOT_RECIPIENT}|The|Das|Dem|Den|Die|Der|Team)\b)([A-ZÄÖÜ][a-zäöüß]+)\b"
)


_SELF_INTRO = _rx(r"\b(?:this is|it'?s|i'?m|i am|my name is|hier ist|hier spricht|ich bin|mein name ist)\s*$")


# ------------------------------------------------------------------ inbound: names heard unsure

NAME_CONFIDENCE = 0.6  # a name word recognised below this confidence is repeated back and spelled
_SPELLED = re.compile(r"(?<![^\W\d_])([^\W\d_])(?:[\s.,\-–]+([^\W\d_])(?![^\W\d_])){2,}")


def spelled_word(text: str) -> str | None:
    """A word spelled out letter by letter ("C-L-A-R-K", "c l a r k", "K. L. A. R. K.") -> "Clark"."""
    best = None
    for m in _SPELLED.finditer(text):
        letters = re.findall(r"[^\W\d_]", m.group(0))
        if len(letters) >= 2 and (best is None or len(letters) > len(best)):
            best = letters
    return "".join(best).capitalize() if best else None


def spell(word: str) -> str:
    """ "Park" -> "P-A-R-K" (how Lisa spells a name back)."""
    return "-".join(c.upper() for c in word if c.isalpha())


def name_confidence(name: str, words: list[list[object]] | None) -> float | None:
    """The lowest recognition confidence of the words of ``name`` in ``words`` ([word, confidence] pairs as
    the engine keeps them in a message's meta), or None when none of them is there (typed text)."""
    if not words:
        return None
    wanted = {w.lower() for w in re.findall(r"[^\W\d_]+", name)}
    found = [
        float(p)  # type: ignore[arg-type]  # a confidence: a number in the engine's stored meta
        for w, p in words
        if (key := re.sub(r"[^\w]", "", str(w)).lower()) and key in wanted
    ]
    return min(found) if found else None


# asked to go on in the other language: "do you speak English?", "can we do this in English?", "sprechen Sie
# auch Englisch?", "auf Deutsch bitte", "my German is not so good"
_WANTS_ENGLISH = _rx(
    r"\b(?:(?:do|can|could) you (?:also )?speak english|(?:in|auf) english|english,? please|in englisch|"
    r"(?:sprechen|sprichst|können) (?:sie|du) (?:auch )?englisch|auf englisch|englisch,? bitte|"
    r"my german is(?:n'?t| not)\b)"
)
_WANTS_GERMAN = _rx(
    r"\b(?:(?:do|can|could) you (?:also )?speak german|in german|german,? please|"
    r"(?:sprechen|sprichst|können) (?:sie|du) (?:auch )?deutsch|auf deutsch|deutsch,? bitte|"
    r"mein englisch ist (?:nicht|schlecht))\b"
)


def wanted_language(text: str) -> str | None:
    """The language ``text`` asks to go on in ("en", "de"), or None."""
    english, german = bool(_WANTS_ENGLISH.search(text)), bool(_WANTS_GERMAN.search(text))
    return "en" if english and not german else "de" if german and not english else None
