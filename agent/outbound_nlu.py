"""What a called business says on an outbound booking call, beyond :mod:`agent.rule_nlu` (en + de).

Questions about the patient that the request cannot answer, confirmations that carry no slot, corrections
over two turns, and the name question as speech recognition garbles it ("What's the sir name for the
cooking?"), which only counts right after a slot was agreed (see :func:`likely_name_question`).
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from agent import rule_nlu as nlu


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# things the user brings along to the appointment
BRING_QUESTION = _rx(
    r"\b(insurance|insured|insurer|health card|card|referral|referred|prescription|x-?rays?|documents?|"
    r"paperwork|forms?|records?|private or public|public or private|privately|"
    r"versichert\w*|versicherung\w*|krankenkasse|kasse|karte|überweisung|ueberweisung|rezept|"
    r"röntgenbild\w*|unterlagen|befund\w*|privat oder gesetzlich|gesetzlich oder privat|privatpatient\w*)\b"
)
# facts about the patient only the user knows
UNKNOWN_QUESTION = _rx(
    r"\b(been (here|with us|to us|to our|in|at our)|been before|before\b.*\b(visit|here|us)|new patient|existing patient|"
    r"first (time|visit)|visited (us|before)|come to us before|patient (here|with us|of ours)|"
    r"symptoms?|pain|hurt\w*|ache\w*|what'?s (wrong|the problem|it about)|what is (wrong|it about)|"
    r"reason for|allerg\w*|medication|medicine|how old|age\b|which (doctor|dentist|therapist)|"
    r"preference for|particular (doctor|dentist|therapist)|emergency|urgent|"
    r"schon (mal )?(bei uns|hier|da)|schon einmal|zum ersten mal|erstes mal|neuer patient|neue patientin|"
    r"bestandspatient\w*|beschwerden|schmerz\w*|was fehlt|worum geht|grund|allergi\w*|medikament\w*|"
    r"wie alt|alter\b|welche[nrm]? (arzt|ärztin|zahnarzt|therapeut\w*)|notfall|dringend)\b"
)
_QUESTION_START = _rx(
    r"^\W*(and |so |also |und |okay,? |ok,? |right,? |alright,? )?"
    r"(do|does|did|is|are|was|were|has|have|had|will|would|can|could|should|what|which|when|where|who|whom|"
    r"whose|why|how|may|hat|haben|ist|sind|war|waren|wird|kann|können|soll|was|welche\w*|wann|wo|wer|wie|"
    r"warum|bringt|bringen|kommt)\b"
)
# a business confirming what was agreed, even without a slot in it ("Lovely, see you then", "Super, passt")
CONFIRM_CUE = _rx(
    r"(^\W*(lovely|great|perfect|wonderful|brilliant|excellent|fine|good|okay|ok|alright|all right|right|"
    r"sure|fantastic|super|prima|gut|alles klar|wunderbar|perfekt|sehr gut|okay gut|in ordnung)\b)"
    r"|\b(then|see you|see him|see her|that'?s (fine|great|perfect)|sounds good|works|noted|dann|bis dann|passt)\b"
)
# a business changing the slot in a later turn ("Sorry, actually Wednesday instead")
CORRECTION_CUE = _rx(
    r"\b(instead|actually|rather|i mean|i meant|make (that|it)|my mistake|correction|sorry,? (no|wait)|no,? sorry|"
    r"stattdessen|lieber|doch|ich meine|ich meinte|korrektur|verzeihung|besser gesagt|sondern)\b"
)
# a new offer rather than a confirmation ("How about 2:30 instead?", "We could also do …")
OFFER_CUE = _rx(
    r"\?|\b(how about|what about|could|can do|would|free|available|possible|have|got|offer|"
    r"wie wäre|ginge|hätte|hätten|haben|frei|möglich|könnte|anbieten)\b"
)
# the name question as Whisper garbles it ("sir name", "the same for the cooking", "who's it for")
_NAME_GARBLE = _rx(
    r"\b(sir ?name|surname|sur name|last name|first name|nam\w*|nay\w*|naim|knave|same|whom?|who'?s|"
    r"under (what|which|whose)|spell\w*|put (it|him|her|that|you) (down )?(under|for)|"
    r"(it|that|this|one)('?s)? (be )?under(?=\W*$)|"
    r"(for|on) the (booking|cooking|looking|book\w*|appointment|record|file|card|reservation)|"
    r"nachname|vorname|nahme\w*|name\w*|wen\b|wem\b|wer\b)\b"
)
_FILLERS = _rx(
    r"\b(oh|ah|ach|äh|ähm|uh|um|so|well|sorry|entschuldigung|verzeihung|please|bitte|then|dann|"
    r"the|der|die|das|at|um|is|ist|it'?s|es ist)\b"
)


_YES_NO = _rx(r"\b(yes|yeah|yep|no|nope|okay|ok|right|ja|nein|nee|genau|richtig)\b")


def without_cues(text: str) -> str:
    """``text`` without correction cues, fillers, yes and no: "Oh, my mistake, eleven instead." -> "eleven",
    "No, 330." -> "330"."""
    rest = _YES_NO.sub(" ", _FILLERS.sub(" ", CORRECTION_CUE.sub(" ", text)))
    return re.sub(r"[\s,.;:!?-]+", " ", rest).strip()


# "Who did you say you're calling for?": the name again
CALLING_FOR = _rx(
    r"\b(calling (for|on behalf)|on whose behalf|who (are|were) you calling|who is (the|this) (patient|client)|"
    r"für wen rufen|in wessen auftrag|wer ist (der|die) patient\w*)\b"
)
# what the request answers: its purpose, and the preferred time
PURPOSE_QUESTION = _rx(
    r"\b(is (it|this|that) for|what('?s| is) (it|this|the appointment) (for|about|regarding)|what kind of|"
    r"what (type|sort) of|which (kind|type|service|treatment)|what (do|does) (he|she|they|you) need|"
    r"what would (he|she|they|you) like (done|to book)|(check-?up|routine \w+) or|or a (check|cleaning|consult)\w*|"
    r"(kontrolle|vorsorge\w*|routine\w*) oder|"
    r"worum geht|wofür|was für (ein|eine|einen)|welche (art|behandlung|leistung)|was (braucht|möchte) (er|sie))\b"
)
PREFERENCE_QUESTION = _rx(
    r"\b(what (day|days|time|times)|which (day|days|time|times)|when (would|were|are|does|do|can) "
    r"(you|he|she|they|it)|any (particular|preferred) (day|time)|preference|prefer\w*|"
    r"wann (hätten|möchten|wollen|würde|passt|soll|darf|kann)|welche[nrm]? (tag|uhrzeit|zeit)|wunsch\w*|wünsch\w*)\b"
)
DURATION_QUESTION = _rx(
    r"\b(how long (will|would|does|do|is|should|'ll)\b|how much time|how many (minutes|hours)|duration|"
    r"wie lange (dauert|braucht|wird|soll|ist)|wie viel zeit|wieviel zeit|wie viele (minuten|stunden)|dauer\b)"
)
HOLD_MORE = _rx(
    r"\b((can|could|would) you (please )?hold|hold (for )?(a|one) (moment|second|sec|minute)|please hold|"
    r"give me (a|one) (second|moment|sec|minute)|bear with me|bleiben sie (bitte )?dran|kurz warten|"
    r"moment,? bitte|einen kleinen moment)\b"
)
# a business saying it records the booking, beyond agent.rule_nlu.CONFIRM ("I'll put that in for you")
CONFIRM_MORE = _rx(
    r"\b(put (that|it|him|her|you) (in|down)|pencil(led)? (him|her|you|it|that) in|"
    r"(write|wrote|written) (him|her|you|it|that) (in|down)|book(ed)? (him|her|you|it|that) in|"
    r"i'?ll (book|put|note|reserve|pop)|reserved|i'?ve got (him|her|you)|(he|she|you)'?s (all )?(booked|set)|"
    r"trage (ich|es|ihn|sie)|notiere|reserviert|vorgemerkt|ist (eingetragen|gebucht|notiert))\b"
)
# nothing free, beyond agent.rule_nlu.NO_AVAILABILITY
# "three's no good", "3 is no good" refuse an hour, not the day or the diary
_NOT_AFTER_AN_HOUR = "".join(
    f"(?<!{word})"
    for word in ("\\d", "\\d ", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                 "eleven", "twelve", "o'clock", "o'clock ", "thirty", "thirty ", "pm ", "am ", "that", "that ", "this", "this ", "it", "it ")
)  # fmt: skip
NO_SLOT = _rx(
    r"\b(booked solid|solidly booked|completely (full|booked)|totally (full|booked)|no (room|space|gaps?)|"
    r"nothing left|packed|keine lücke|komplett voll|restlos|nichts mehr|"
    # "we're full", "Tuesday's no good": a day or the diary refused
    r"('s|'re| is| are) (all |pretty much |quite )?full"
    r"(?! (price|name|hour|session|treatment|day)s?\b)|" + _NOT_AFTER_AN_HOUR + r"(is|'s) no good)\b"
)
# a wish the user cannot move from ("Saturday only", "it has to be a Saturday", "I can only come in the
# mornings", "nur samstags", "muss ein Samstag sein"): an offer outside it is never taken
_WISH_TIME = (
    r"(?:(?:on |a |an |in the |at )?(?:mondays?|tuesdays?|wednesdays?|thursdays?|fridays?|saturdays?|sundays?|"
    r"weekends?|weekdays?|mornings?|afternoons?|evenings?)|(?:am |an |einem |einen )?(?:montags?|dienstags?|"
    r"mittwochs?|donnerstags?|freitags?|samstags?|sonntags?|wochenende|vormittags?|nachmittags?|morgens|abends))"
)
STRICT_WISH = _rx(
    rf"\b(?:only {_WISH_TIME}|{_WISH_TIME},? only|(?:has|have|needs?|must) (?:to )?be {_WISH_TIME}|"
    rf"can only (?:come|make it|do)(?: it)? {_WISH_TIME}|nur {_WISH_TIME}|{_WISH_TIME} (?:muss|müsste) es sein|"
    rf"muss (?:ein |an einem |am )?{_WISH_TIME}|ausschließlich {_WISH_TIME})\b"
)
# a call back only should something change ("He can call us back if he needs to change it", "Falls das nicht
# passt, rufen Sie einfach nochmal an"): no request to call again later
IF_CALL_BACK = _rx(
    r"\b(if|in case|should|whenever|falls|wenn|sollte|sofern)\b[^.!?]{0,60}\b(call|ring|anrufen|melden|rufen)\b|"
    r"\b(call|ring)\b[^.!?]{0,30}\b(if|in case|should)\b|\b(anrufen|melden|an)\b[^.!?]{0,30}\b(falls|wenn)\b"
)
# the business only works at certain times ("We only take blood in the mornings", "nur vormittags"): a wish
# outside them cannot be had
ONLY_AT = _rx(
    r"\b(only|just|nur|ausschließlich)\b[^.!?]{0,40}?\b(mornings?|afternoons?|evenings?|weekdays?|weekends?|"
    r"mondays?|tuesdays?|wednesdays?|thursdays?|fridays?|saturdays?|vormittags?|nachmittags?|morgens|abends|"
    r"werktags|wochentags|montags|dienstags|mittwochs|donnerstags|freitags|samstags)\b"
)
# more ways to say goodbye than agent.rule_nlu.GOODBYE
GOODBYE_MORE = _rx(
    r"\b(cheerio|bye now|see ya|ciao|bis bald|mach'?s gut|schönen tag|wiederhören)\b|\bcheers\W*$"
)
# the business does not give appointments at all: walk-in only ("We don't do appointments for men's haircuts,
# it's walk-in only", "Termine machen wir nicht, einfach vorbeikommen")
WALK_IN = _rx(
    r"\b(walk[- ]?ins?\b(?! (are|is) (full|closed))|first come,? first serve[d]?|"
    r"(don'?t|do not|doesn'?t|does not|never) (do|take|make|give|offer|book|use|work with) (any )?"
    r"(appointments?|bookings?|reservations?)|"
    r"no (appointments?|bookings?|reservations?) (needed|necessary|required)|"
    r"no need (for|to make|to book) (an? )?(appointment|booking|reservation)|"
    r"(appointments?|bookings?) (aren'?t|are not|isn'?t|is not) (needed|necessary|required)|"
    r"(don'?t|do not|doesn'?t|does not|won'?t|will not) need (an? |to make an? |to book an? )?(appointment|booking|reservation)|"
    r"(don'?t|do not|doesn'?t|does not|won'?t|will not) (need|have) to (book|make an appointment)"
    r"(?=\s*[,.;!]|\s*$| for (that|this|it|him|her|haircuts?|cuts?)\b)|"
    r"(come|walk|drop|pop) (\w+ ){0,3}without (an? )?(appointment|booking)|"
    r"termine? (machen|vergeben|geben|nehmen) wir (gar |überhaupt )?(nicht|keine)\b(?! mehr)|"
    r"wir (machen|vergeben|geben|nehmen) (gar |überhaupt )?keine termine\b(?! mehr)|keine terminvergabe|"
    r"ohne termine?\b(?! (geht|läuft|klappt|ist) (bei uns )?(leider )?(nichts|nicht|es nicht|kaum))|"
    r"(braucht|brauchen|benötigt|benötigen)( \w+){0,2} (keinen|gar keinen) termin|"
    r"(kein|keinen) termin (nötig|notwendig|erforderlich)|"
    r"laufkundschaft|wer zuerst kommt)"
)
# "just come by": a walk-in only while nothing is agreed (with a slot agreed it tells how to arrive)
COME_BY = _rx(
    r"\b((just|simply) (come|drop|pop|walk|stop|swing) (by|in|round|over|along)\b(?! (at|on) )|"
    r"einfach (vorbei(kommen|schauen)|reinkommen|herkommen|kommen)|kommen sie (einfach|gerne?) (vorbei|rein|her)\b|"
    r"kommen sie einfach\b|offene[nr]? sprechstunde|open (surgery|clinic)\b|drop-in (clinic|hours|session))"
)


# the business comes to the user ("I can come Friday between nine and eleven", "the technician comes", "Freitag
# zwischen 10 und 12 komme ich vorbei", "wir kommen"): a window it names is the visit, not a choice of times
VISIT = _rx(
    r"\b(?:(?:i|we|someone|somebody|the \w+|our \w+)(?: can| could| will|'ll| would)? (?:come|be there|be with you|"
    r"pop (?:round|by|over)|drop by|stop by)\b|(?:the|our) \w+ comes\b|"
    r"(?:komme ich|kommen wir|kommt jemand|kommt (?:der|die|unser|unsere) \w+)\b|"
    r"(?:ich|wir|jemand) (?:komme|kommen|kommt)\b|(?:ich|wir|jemand) (?:bin|sind|ist) (?:dann |gern |gerne )?da\b)"
)


def walk_in(text: str, agreed: bool = False) -> bool:
    """Whether the business says it gives no appointments (:data:`WALK_IN`) or, while nothing is ``agreed``,
    that one just comes by (:data:`COME_BY`); not as a question ("do I need an appointment?")."""
    return any(
        (WALK_IN.search(s) or (not agreed and COME_BY.search(s))) and not s.rstrip().endswith("?")
        for s in re.split(r"(?<=[.!?])\s+", text.strip())
    )


# a sentence that only sees the other off until the appointment ("Perfect, see you then.", "Great, we'll see
# him Friday.", "Alles klar, bis dann.", "Gut, wir sehen uns Freitag."): a goodbye once a slot is agreed
_SEE_OFF = _rx(
    r"^\W*(?:(?:ok|okay|great|perfect|lovely|wonderful|brilliant|excellent|fine|good|alright|all right|right|sure|"
    r"super|fantastic|thanks|thank you|cheers|so|then|yes|yeah|well|and|gut|prima|perfekt|wunderbar|schön|"
    r"alles klar|klar|in ordnung|danke|vielen dank|dankeschön|also|dann|ja|genau|na dann|sehr gut)\b\W*)*"
    r"(?:(?:(?:we'?ll|i'?ll|we will|i will|we|i) )?(?:look forward to seeing|see|catch) (?:you|him|her|them)\b|"
    r"(?:until|till|'?til) (?:then|\w+day)\b|speak soon\b|talk soon\b|"
    r"bis (?:dann|später|nachher|bald|morgen|übermorgen|demnächst|nächste woche|zum \w+|(?:am )?\w+tag|mittwoch)\b|"
    r"(?:wir|man) (?:sehen|sieht) (?:uns|sich)\b|(?:sehen wir uns|sieht man sich)\b|(?:wir )?freuen uns auf (?:sie|ihn|ihren besuch)\b)"
    r"(?:\s+(?:then|on|at|in|next|this|soon|there|um|am|gegen|dann|nächste\w*|\d|one|two|three|four|five|six|seven|"
    r"eight|nine|ten|eleven|twelve|eins|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|half|halb|quarter|"
    r"viertel|\w+day|\w+tag|mittwoch|morgen|übermorgen|tomorrow)\b[^.!?,;]{0,25})?"
    r"(?:,\s*(?:cheers|thanks|thank you|bye|take care|have a (?:nice|good) (?:day|one)|danke|tschüss|ciao)\b)?\W*$"
)


def sees_off(text: str) -> bool:
    """Whether ``text`` ends on a see-off ("see you then", "until then", "bis dann/Freitag/bald", "wir sehen
    uns") and asks nothing: said once a slot is agreed, it closes the call as a goodbye does."""
    if is_question(text):
        return False
    sentences = [
        s for s in re.split(r"(?<=[.!?])\s+|,\s*(?=(?:see|until|till|bis|wir sehen)\b)", text.strip()) if s
    ]
    return bool(sentences) and bool(_SEE_OFF.match(sentences[-1]))


# a business turning something down without naming a slot ("no mornings at all, I'm afraid")
NEGATIVE = _rx(
    r"\b(no|not|nothing|none|afraid|unfortunately|sorry|can'?t|cannot|won'?t|leider|kein\w*|nicht|nichts)\b"
)
STILL_THERE = _rx(
    r"\b(are you still there|still there|can you (still )?hear me|are you there|sind sie (noch )?da|"
    r"hören sie mich|noch dran)\b"
)
# weekdays as the small speech model mishears them on the phone ("I have to stay at 9" for "Tuesday at 9"),
# only where a time or an offer follows
_BEFORE_TIME = (
    r"(?=,? (?:at (?:\d|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|half|quarter|noon)"
    r"|or\b|morning|afternoon|the \d))"
)
_WEEKDAY_GARBLES = (
    (_rx(r"\b(?:to|two|tue)[ -]?stays?\b" + _BEFORE_TIME), "Tuesday"),
    (_rx(r"\b(?:they'?re|there|their)[ -]?stay\b" + _BEFORE_TIME), "Thursday"),
    (_rx(r"\b(?:when'?s|wednes)[ -]day\b"), "Wednesday"),
    (_rx(r"\b(?:fry|fri)[ -]day\b"), "Friday"),
    (_rx(r"\b(?:thurs|first)[ -]day\b(?=,? (?:at|on|or)\b)"), "Thursday"),
)


def unmishear(text: str) -> str:
    """``text`` with weekdays the speech model is known to garble on the phone put back."""
    for pattern, day in _WEEKDAY_GARBLES:
        text = pattern.sub(day, text)
    return text


# the business checks what it wrote down ("Is that right?", "Correct?", "Stimmt das so?")
NAME_CHECK = _rx(
    r"\b(is that (right|correct)|(have|got) (i|that) (got )?(it|that) right|right\?|correct\?|"
    r"stimmt das|richtig so|ist das richtig|korrekt\?)"
)
SPELL_QUESTION = _rx(r"\b(spell\w*|buchstabier\w*|wie schreibt|how do you write)\b")


_TAG = _rx(
    r"^\W*(?:(?:oh|ah|ach|phew|puh|wow|gosh|well|ja|yes|yeah|na ja|naja)\W*){0,3}"
    r"(?:(?:isn'?t it|is it|right|huh|eh|don'?t you think|oder|nicht wahr|ne|gell|wirklich|echt)\W*)?$"
)


def own_day(text: str) -> bool:
    """Whether the business tells of its own day ("We close at 6 today.", "I have to leave early on Friday.",
    "Wir haben am Montag Teamsitzung."; :data:`agent.when.OWN_DAY`), asking nothing: no offer, information."""
    from agent.when import OWN_DAY

    return bool(OWN_DAY.search(text)) and not is_question(text)


def small_talk(text: str) -> bool:
    """Whether ``text`` is only small talk ("Busy day today, isn't it?", "What a Monday!", "Heute ist viel
    los."): every sentence chats (:data:`agent.when.SMALL_TALK`) or is a tag or an interjection ("oh", "oder?")."""
    from agent.when import SMALL_TALK

    sentences = [s for s in re.split(r"(?<=[.!?])\s+|,\s*", text.strip()) if s.strip()]
    return any(SMALL_TALK.search(s) for s in sentences) and all(
        SMALL_TALK.search(s) or _TAG.match(s) for s in sentences
    )


def is_question(text: str) -> bool:
    """Whether ``text`` asks something (a question mark, or a question word at the start of a sentence)."""
    if "?" in text:
        return True
    return any(_QUESTION_START.search(s) for s in re.split(r"(?<=[.!])\s+", text.strip()))


def likely_name_question(text: str) -> bool:
    """Whether a question asked right after a slot was agreed can only be the name question: a short
    question with a name-like word in it, no time, and none of the other things a business asks then
    (phone number, date of birth, insurance …). Speech recognition garbles the name question more than
    any other ("What's the sir name for the cooking?", "And the same for the booking?")."""
    if nlu.NAME_QUESTION.search(text):
        return True
    if not is_question(text) and not re.match(r"^\W*(and|und)\b", text, re.I):
        return False
    if len(text.split()) > 12 or nlu.PHONE_QUESTION.search(text) or nlu.PRIVATE_QUESTION.search(text):
        return False
    if BRING_QUESTION.search(text) or UNKNOWN_QUESTION.search(text) or re.search(r"\d", text):
        return False
    return bool(_NAME_GARBLE.search(text))


# the business takes back a slot it offered ("my colleague just took that one", "doch schon vergeben")
WITHDRAWN = _rx(
    r"\b((someone|somebody|colleague|another (patient|client|customer)|she|he)( else)?( has| had)?( just)? "
    r"(took|taken|grabbed|snapped up|booked (it|that|this)|got (it|that|this))|"
    r"(that|it|this)( one| slot| time| appointment)?('s| is| has| was)? (just |already |now )*"
    r"(been )?(gone|taken|snapped up|went)|just went|scratch that|"
    r"(has|have|'s|is|are|was) (just |already |now |actually )*(been )?(taken|gone|snapped up)|"
    r"(gave|given|giving) (it|that|this|that one|this one|the slot|the appointment) (away|to (someone|somebody))|"
    r"(gave|given|giving) (\w+ ){1,3}away|"
    r"weggegeben|anderweitig|"
    r"(we'?re|we are|i'?m|it'?s|we'?ve got|we have) (now |actually |completely |fully |all )*"
    r"(full|fully booked|booked up|no longer free)|"
    r"(not|isn'?t|aren'?t|no longer) (free|available|possible|open)( any ?more| after all| now)?|"
    r"(can'?t|cannot|won'?t|couldn'?t) (do|make|offer|manage|fit)\b[^.!?]{0,40}\bafter all|"
    r"after all[^.!?]{0,20}\b(not|can'?t|full|gone|taken)|"
    r"vergeben|belegt|schon weg|(?:ist|sind) (?:\w+ )?weg\b|doch nicht|doch schon|nicht mehr (frei|verfügbar|möglich|da)|"
    r"geht doch nicht|(jetzt|nun|doch) (doch |leider )?voll|hat (ihn|es|den|die)[^.!?]{0,30}genommen)"
)


# a slot gone for certain (not just "Monday isn't possible", which refuses Lisa's wish)
_GONE = _rx(
    r"\b(took|taken|grabbed|snapped up|gone|went|away|scratch that|after all|vergeben|weg|weggegeben|genommen|doch nicht|"
    r"doch schon)\b"
)


def clauses(text: str) -> list[str]:
    """``text`` cut where a new thought may start ("Friday's gone, but Thursday at 4 is free")."""
    parts = re.split(r"(?<=[.!?;])\s+|,?\s+\b(?:but|though|however|aber|jedoch|dafür)\b", text.strip())
    return [p for p in parts if p and p.strip()]


# what stands around a bare hour the business says is left or gone ("Only 4 is left", "nur noch vier", "2 just
# went"): read the hour alone
_AROUND_AN_HOUR = _rx(
    r"\b(only|just|still|left|remaining|free|available|is|are|went|gone|taken|sorry|oh|my colleague booked it|"
    r"ok|okay|alright|right|fine|great|good|perfect|it|that|let'?s say|let'?s do|make it|bye|goodbye|"
    r"gut|prima|super|sagen wir|machen wir|nehmen wir|tschüss|ciao|"
    r"works?|would (be|work|do)|could do|can do|how about|what about|though|instead|possible|open|then|"
    r"(can|could|would) (he|she|they|you|we) (do|make it|come( in)?)|also|"
    r"nur|noch|übrig|frei|gerade|ist|sind|weg|schon|leider|ach|ginge|geht|wäre|hätte ich|passt|möglich|"
    r"stattdessen|dafür|dann|auch|vielleicht)\b"
)


# what the business says the user must know: a price, what to bring, when to come, how to pay, another
# practitioner ("it's 80 euros", "bring his insurance card", "come 15 minutes early", "cash only", "with Dr Jones")
CONDITION = _rx(
    r"(\b\d+|\b(?:ten|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|zehn|zwanzig|dreißig|vierzig|"
    r"fünfzig|sechzig|siebzig|achtzig|neunzig|hundert)\w*) ?(euros?|€|dollars?|pounds?)|[€$£] ?\d+|"
    r"\b(costs?|price|fee|not covered|"
    r"bring|cash only|card only|prescription|referral|fasting|deposit|cancellation fee|"
    r"come (\w+ ){0,3}(early|earlier|before)|(\d+|ten|fifteen|twenty|thirty) minutes (early|before)|"
    r"(insurance|kasse|krankenkasse)( \w+){0,2} (doesn'?t|does not|won'?t|will not|zahlt nicht|übernimmt)|"
    r"kostet|gebühr|mitbringen|bringen sie|nur bar|barzahlung|bar zahlen|überweisung|rezept|nüchtern|anzahlung|"
    r"(minuten|viertelstunde) (früher|vorher|vor dem termin)|früher da sein|"
    r"(with|bei) (dr\.?|doctor|doktor|frau dr\.?|herrn? dr\.?) [A-ZÄÖÜ]\w+)\b"
)


def conditions(text: str) -> list[str]:
    """The sentences of ``text`` that hold a :data:`CONDITION`, without a trailing question to Lisa."""
    found = []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        if CONDITION.search(sentence):
            said = re.sub(
                r",?\s*(is that|would that be|ist das|wäre das)\b[^.!?]*\?$", "", sentence, flags=re.I
            )
            found.append(said.strip(" ,"))
    return found


# the business asks what time would suit the user ("what time would suit him?", "when would she like to come?",
# "um wie viel Uhr möchte er denn kommen?", "wann passt es ihm?")
WHAT_TIME_SUITS = _rx(
    r"\b((what|which) time (would|does|will|is) (suit|work for|be (good|best) for|best for) (him|her|them|you)|"
    r"what time (would|does|will) (he|she|they) (like|want|prefer)|when would (he|she|they) (like|want|prefer)|"
    r"(what|which) time (would|does) (he|she|they) prefer|what time (suits|works)|"
    r"(um )?wie viel uhr (möchte|würde|will|hätte|kann|könnte) (er|sie)|wann (möchte|würde|will|kann|könnte) (er|sie)|"
    r"welche uhrzeit (wäre|hätte|möchte|passt|ist) (ihm|ihr|er|sie)|wann passt es (ihm|ihr))\b"
)


# the business books online only ("we only take bookings online", "through our website", "nur online")
ONLINE_ONLY = _rx(
    r"\b(only (take|do|accept|make) (bookings|appointments|reservations) (online|through|via)|"
    r"(bookings?|appointments?) (are |is )?(only )?(online|through (our|the) (website|app))|only online|"
    r"book (it )?(online|through (our|the) (website|app))|online booking|doctolib|"
    r"nur (noch )?online|online buchen|über (unsere|die) (website|webseite|homepage|internetseite|app)|"
    r"termine (gibt es |vergeben wir )?(nur )?online)\b"
)
# a web address said on the phone ("miller dental dot com", "www.praxis-mueller.de", "praxis müller punkt de")
WEB_ADDRESS = _rx(
    r"\b(www|dot (com|de|org|net|co)|punkt (de|com)|\w+\.(com|de|org|net)|doctolib|jameda|treatwell|booksy|calendly|"
    r"opentable|quandoo)\b"
)


_ANIMAL = r"(dog|cat|puppy|kitten|pet|rabbit|horse|hamster|parrot|hund|katze|kater|welpe|tier|haustier|kaninchen|pferd)"
# the business asks the animal's name ("and the dog's name?", "what's the cat called?", "wie heißt der Hund?")
PET_NAME_QUESTION = _rx(
    rf"\b({_ANIMAL}'?s name|name of (the|your|his|her) {_ANIMAL}|(the|your|his|her) {_ANIMAL} (is )?called|"
    rf"wie hei(ß|ss)t( denn| eigentlich)? (der|die|das|ihr|ihre|sein|seine) {_ANIMAL}|name (des|der) {_ANIMAL}\w*)\b"
)
_PET_NAMED = re.compile(
    rf"(?i:\b{_ANIMAL}\b)\s*(?:,\s*)?(?i:called |named |namens |heißt |names? is |name |\()?([A-ZÄÖÜ][a-zäöüß]+)"
)
# the business asks for how many people ("for how many people?", "how many guests?", "für wie viele Personen?")
PARTY_SIZE_QUESTION = _rx(
    r"\b(how many (people|persons|guests|of you|are you)|for how many|party of how many|wie viele (personen|leute|gäste)|"
    r"für wie viele|wie viele seid|wie viele sind sie)\b"
)
_COUNT = (
    r"(\d{1,2}|two|three|four|five|six|seven|eight|nine|ten|twelve|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|"
    r"zwölf)"
)
_PARTY_SIZE = _rx(
    rf"\b(?:{_COUNT} (?:people|persons|guests|pax|personen|leute|gäste)|(?:table|tisch) (?:for|für) {_COUNT})\b"
)


def pet_name(brief: str) -> str:
    """The animal's name in the request ("Vaccination for my dog Bello" -> "Bello"), "" when none."""
    m = _PET_NAMED.search(brief)
    return m.group(2) if m else ""


_KIN = r"(child|kid|son|daughter|boy|girl|baby|kind|sohn|tochter|junge|mädchen|enkel|enkelin)"
# the business asks the name of the child the appointment is for ("What's the child's name?", "Wie heißt das Kind?")
KIN_NAME_QUESTION = _rx(
    rf"\b({_KIN}'?s (first |full )?name|name of (the|your|his|her) {_KIN}|(the|your|his|her) {_KIN} (is )?called|"
    rf"wie hei(ß|ss)t( denn| eigentlich)? (der|die|das|ihr|ihre|sein|seine) {_KIN}|name (des|der) {_KIN}\w*)\b"
)
_KIN_NAMED = re.compile(rf"(?i:\b{_KIN}\b)\s*,?\s*(?i:called |named |namens )?([A-ZÄÖÜ][a-zäöüß]+)")


def kin_name(brief: str) -> str:
    """The child's name in the request ("Check-up for my son Leo" -> "Leo"), "" when none."""
    m = _KIN_NAMED.search(brief)
    return m.group(2) if m else ""


def party_size(brief: str) -> str:
    """How many people the request is for ("Table for 4 on Friday" -> "4"), "" when it does not say."""
    m = _PARTY_SIZE.search(brief)
    return (m.group(1) or m.group(2)) if m else ""


# the business offers its waiting list ("I can put you on our waiting list", "Warteliste")
_WAITING_LIST = _rx(r"\b(waiting ?list|wait ?list|warteliste\w*)\b")
_NO_WAITING_LIST = _rx(
    r"\b(no|don'?t (have|do|keep) an?y?|keine|führen keine|haben keine)\s+(waiting ?list|wait ?list|warteliste)"
)


def offers_waiting_list(text: str) -> bool:
    """Whether the business offers its waiting list ("I can put you on our waiting list"), not "we have none"."""
    return bool(_WAITING_LIST.search(text)) and not _NO_WAITING_LIST.search(text)


# the business offers something else in place of what was asked ("I could give him a check-up with the doctor
# instead", "Ich könnte ihm aber eine Kontrolle beim Doktor geben"): a contrast, then "a <thing> <preposition>"
_CONTRAST = _rx(r"\b(instead|alternatively|but|stattdessen|statt dessen|alternativ|aber)\b")
_OTHER_THING = re.compile(
    r"\b((?:a|an) [a-z][\w-]{3,})(?= (?:with|at|on|for|by|from|in|instead)\b)|"
    r"\b((?:[Ee]ine|[Ee]inen|[Ee]in) [A-ZÄÖÜ][\wäöüß-]{3,})"
)
# words for a slot itself or its time, never another service ("a slot on Tuesday", "einen Termin am Dienstag")
_SLOT_WORD = _rx(
    r"^(slot|appointment|space|spot|opening|time|gap|cancellation|chance|call|callback|session|table|termin|"
    r"lücke|platz|zeit|moment|minute|stunde|möglichkeit|alternative|rückruf|\w*termin|sitzung|tisch|"
    r"\w*day|\w*tag|mittwoch|week|woche|morning|afternoon|evening|\w*mittag|abend|\w*stunde|"
    r"colleague|doctor|dentist|stylist|therapist|nurse|locum|kolleg\w*|\w*ärztin|\w*arzt|doktor\w*|vertretung)s?$"
)


def other_service(text: str, brief: str) -> str:
    """What the business offers in place of what the request asks for ("a check-up", "eine Kontrolle"): a
    thing after a contrast ("instead", "aber") the request does not name; "" when it offers the same."""
    if not _CONTRAST.search(text):
        return ""
    wanted = brief.lower()
    for m in _OTHER_THING.finditer(text):
        said = m.group(1) or m.group(2)
        thing = said.split(" ", 1)[1]
        if not _SLOT_WORD.match(thing) and thing.lower()[:6] not in wanted:
            return said
    return ""


# the business asks which language Lisa speaks ("Do you speak English?", "Können wir Deutsch sprechen?")
LANGUAGE_QUESTION = _rx(
    r"\b((do|can|could) (you|we) (speak|talk( in)?|do it in) (english|german|deutsch)|"
    r"(is|would) (english|german) (be )?(ok|okay|alright|fine|possible)|"
    r"(sprechen|können) (sie|wir) (auch |bitte |vielleicht )?(englisch|deutsch|english)( sprechen| reden)?|"
    r"(geht|ginge) (es|das) (auch )?auf (englisch|deutsch))\b"
)
# a greeting said again by someone new on the line ("Terminvergabe, Schulz, guten Tag?", "Hallo, Anmeldung?")
_GREETING_WORD = (
    r"(good (morning|afternoon|evening|day)|hello|hi|guten (morgen|tag|abend)|hallo|grüß gott|moin|servus)"
)
_GREETING_AT_END = _rx(rf"\b{_GREETING_WORD}\W*$")
_GREETING_AT_START = _rx(rf"^\W*{_GREETING_WORD}\b")


def greets_again(text: str) -> bool:
    """Whether ``text`` is a short greeting (at its start or end, at most eight words) that asks nothing
    else: a question mark alone ("Anmeldung, guten Tag?") is the greeting's."""
    if len(text.split()) > 8 or not (_GREETING_AT_END.search(text) or _GREETING_AT_START.search(text)):
        return False
    rest = _GREETING_AT_START.sub("", _GREETING_AT_END.sub("", text))
    return not is_question(rest.replace("?", "."))


# the business asks where to go or where the user lives ("What's the address?", "Wo wohnt er denn?")
ADDRESS_QUESTION = _rx(
    r"\b(address|adresse|anschrift|where (do|does) (you|he|she|they) live|which street|where should (i|we) come|"
    r"wo (wohnt|wohnen)|welche straße|wohin (soll|sollen|muss|müssen))\b"
)
# a street address in the request ("Kastanienallee 12, Berlin", "Schönhauser Allee 80", "12 Baker Street")
_STREET = (
    r"[\w.-]*(?:straße|strasse|str\.|allee|weg|platz|gasse|ring|damm|ufer|chaussee|street|road|avenue|lane)"
)
_ADDRESS = _rx(
    rf"(?:\b[\w.-]+ )?\b{_STREET} \d+ ?[a-z]?\b(?:, ?(?:\d{{5}} )?[^\W\d]+)?|"
    rf"\b\d+[a-z]? [\w.-]+ (?:street|road|avenue|lane|drive|close|way|st\.|rd\.)(?:, ?[^\W\d]+)?"
)
# the business asks how old the patient is ("How old is the little one?", "Wie alt ist die Kleine?")
AGE_QUESTION = _rx(r"\b(how old|what age|wie alt)\b")
_AGE = _rx(
    r"\b(\d{1,2})(?:[ -]years?[ -]old|[ -]year-old| ?(?:jahre|jährig)\w*| ?j\.)|"
    r"\b(?:he is|she is|he's|she's|aged|ist|age) (\d{1,2})\b(?! ?(?:uhr|am|pm|o'clock|:))"
)


def street_address(brief: str) -> str:
    """The street address the request names ("Schönhauser Allee 80, Berlin"), "" when it names none."""
    m = _ADDRESS.search(brief)
    if m is None or m.group(0)[0].islower() and not m.group(0)[0].isdigit():
        m = _ADDRESS.search(brief, m.start() + 1) if m else None
    return m.group(0).strip(" ,.") if m else ""


def age(brief: str) -> str:
    """The age the request gives ("my son Ben, he is 7" -> "7", "Mia, 5 Jahre" -> "5"), "" when none."""
    m = _AGE.search(brief)
    return (m.group(1) or m.group(2)) if m else ""


# the business says it puts the user down ("I'll put him in", "he's down", "dann schreib ich ihn ein")
PUT_DOWN = _rx(
    r"\b((put|write|pencil|book|get) (him|her|them|you) (in|down)|(he|she|they)('s|'re| is| are) (in|down)\b|"
    r"(schreib|trag|setz)\w* (ich |wir )?(ihn|sie|das) (ein|auf)|(ist|sind|wird|werden) (\w+ )?eingetragen|"
    r"(ich|wir) (notier|trag)\w* (ihn|sie|das))"
)


# the number reached someone else ("you've got the wrong number", "this is a bakery", "da sind Sie falsch")
WRONG_NUMBER = _rx(
    r"\b(wrong number|(got|have|dialled|dialed|called|reached) the wrong (number|place|person|business)|"
    r"no (dentist|doctor|practice|salon|clinic|garage|surgery|restaurant) here|"
    r"this (is|'s) (a |just a )?(private (number|home|house)|bakery|pharmacy|residence)|"
    r"falsch verbunden|(sind|haben sich) (sie |hier )?(leider )?(falsch|verwählt)|da sind sie falsch|"
    r"falsche nummer|hier ist (eine |ein )?(privat\w*|bäckerei|apotheke)|(keine|keinen|kein) (praxis|zahnarzt|arzt|"
    r"salon|friseur|werkstatt|restaurant) (hier|bei uns))\b"
)
# an hour said alone and refused ("3 is taken", "No, 3 is booked", "three's no good", "15 Uhr geht nicht") …
HOUR_REFUSED = _rx(
    r"\b(taken|gone|went|booked|no good|full|doesn'?t work|won'?t work|not (free|possible|available)|can'?t do|"
    r"belegt|vergeben|weg|geht nicht|nicht (frei|möglich)|voll)\b"
)
# … and another hour offered beside it ("but 3:30 is free", "4 works though", "halb vier ginge")
HOUR_OFFERED = _rx(
    r"\b(free|available|open|works?|would (be|work|do)|could do|can do|how about|what about|instead|possible|"
    r"frei|ginge|geht|wäre|hätte|passt|möglich|stattdessen|dafür)\b"
)


def bare_hour(clause: str) -> str:
    """``clause`` without the words around an hour said alone ("Only 4 is left" -> "4")."""
    return re.sub(r"[\s,.;:!?-]+", " ", _AROUND_AN_HOUR.sub(" ", without_cues(clause))).strip()


# a slot said to be what is left ("Only 4 is left", "4 is still free", "nur noch vier", "vier wäre noch frei")
STILL_FREE = _rx(
    r"\b(only\b[^.!?]{0,30}\b(left|remaining|free|available)|still (free|available|open)|all (i|we) have left|"
    r"nur noch|noch frei|(ist|wäre) noch|übrig)\b"
)


def withdraws(text: str, strict: bool = False) -> bool:
    """Whether the business takes back the slot being talked about (not a question: "is it taken?");
    ``strict``: only words that say a slot is gone (while no yes of Lisa's stands, "not possible" refuses
    her wish rather than taking an offer back)."""
    for s in re.split(r"(?<=[.!?])\s+", text.strip()):
        # the question is what follows a comma ("…gave ten thirty away, can he do eleven?" takes it back)
        said = re.split(r",\s*(?=(?:can|could|would|how about|what about|ginge|geht|könnte|wie wäre)\b)", s)[
            0
        ]
        if WITHDRAWN.search(said) and not said.rstrip().endswith("?") and (not strict or _GONE.search(said)):
            return True
    return False


# the business is shut or away on a day (or part of one): inventory, a staff outing, a holiday ("we're closed
# that day", "we're not open on Fridays", "da haben wir zu", "da ist Betriebsausflug"); not the hour it closes
# ("we close at six"), which :data:`agent.when.OWN_DAY` covers
CLOSED = _rx(
    r"\b(?:(?:we|they)(?:'re| are| will be|'ll be)|(?:i|she|he|it)(?:'m|'s| am| is| will be|'ll be)|"
    r"the (?:salon|shop|store|practice|office|surgery|clinic|studio|place|team|whole team)(?:'s| is| will be))"
    r"(?: \w+){0,2} (?:closed|shut|not open|not in|not here|not working|off|away)\b|"
    r"\b(?:we|i|she|he|they) (?:don'?t|do not|doesn'?t|does not|won'?t|will not) (?:open|work)\b|"
    r"\b(?:inventory|stock-?taking|stock-?take|staff (?:outing|party|training|day|trip)|team (?:day|outing|event|trip)|"
    r"training day|(?:bank|public) holiday|a holiday|on holiday|day off)\b|"
    r"\b(?:geschlossen|betriebsausflug|inventur|betriebsferien|ruhetag|feiertag|brückentag|fortbildung|schulung|"
    r"teamtag|urlaub|nicht geöffnet|nicht offen)\b|"
    r"\b(?:haben|hat|ist|sind)\b(?: \w+){0,4} zu\b(?! \w)|"
    r"\b(?:sind|ist|bin)\b(?: \w+){0,3} (?:nicht da|nicht im haus|nicht im laden|nicht in der praxis)\b|"
    r"\b(?:arbeiten|arbeitet|arbeite) (?:wir |sie |er |ich )?(?:\w+ )?nicht\b"
)
# a closure of another time than a day of a slot ("closed at weekends", "über Mittag zu")
OTHER_CLOSING = _rx(
    r"\b(weekends?|lunch\w*|midday|christmas|easter|new year|summer|winter|wochenende\w*|mittag\w*|"
    r"weihnacht\w*|ostern|silvester|neujahr|sommer\w*|winter\w*)\b"
)


# what leads over to a closure after an offer ("…, oh wait, no,", "… ach nee, Moment,"); cut off, the offer
# before it is read as said (a "no" at the end would read as taking it back with nothing heard after it)
_LEAD_OVER = _rx(
    r"(?:[\s,.;:!?…\-–—]|\b(?:no|nope|nah|nein|nee|ne|oh|ah|ach|hmm+|hm|um|uh|äh|ähm|wait|hold on|hang on|sorry|"
    r"moment|warte|actually|eigentlich|well|na|also|ja|doch|i forgot|vergessen|entschuldigung|pardon)\b)*$"
)


def closure(text: str) -> tuple[str, str] | None:
    """The first statement in ``text`` that the business is closed or away (:data:`CLOSED`): (what came
    before it, without the words leading over, and the clause of the statement); None without one. A
    question ("are you closed then?") is none."""
    for m in CLOSED.finditer(text):
        start = max(text.rfind(c, 0, m.start()) for c in ".!?…;,:—–") + 1
        ends = [i for i in (text.find(c, m.end()) for c in ".!?…;,—–") if i >= 0]
        end = min(ends) if ends else len(text)
        sentence_end = re.search(r"[.!?]", text[m.end() :])
        if sentence_end and sentence_end.group(0) == "?":
            continue
        return _LEAD_OVER.sub("", text[:start]), text[start:end]
    return None


# the business names a slot but has yet to make sure of it itself ("… but I have to confirm with my colleague
# first", "pencilled in, not confirmed yet", "muss erst Rücksprache halten", "unter Vorbehalt", "vorläufig")
PENDING = _rx(
    r"\b(not (yet )?(confirmed|definite|final|fixed|certain)|(isn'?t|is not|aren'?t|are not) (confirmed|definite|"
    r"final|fixed)|unconfirmed|tentative(ly)?|provisional(ly)?|(hold|pencil\w*|reserve|keep|block)\b[^.!?]{0,30}\bfor now|"
    r"can'?t (promise|guarantee|confirm)|cannot (promise|guarantee|confirm)|"
    r"(i|we)\b[^.!?]{0,25}\b(confirm|check|clear|double-?check|sort|run|ask|talk|speak)\b[^.!?]{0,30}\b"
    r"(with|by|past)? ?(my|the|our) (colleague|boss|manager|owner|stylist|doctor|dentist|team|partner|supervisor)|"
    r"(have|need|got) to (confirm|double-?check)|(confirm|double-?check)\w* (it |that |this )?first|"
    r"(call|ring|phone|get back to) (you|him|her|them) (back )?(to|and) confirm|"
    r"let me (double-?check|check|confirm|ask)[^.!?]{0,40}\b(and|then) (i'?ll )?(call|ring|get back|phone)|"
    r"(muss|müsste|müssen|sollte)\b[^.!?]{0,50}\b(nachfragen|rückfragen|abklären|klären|absprechen|abstimmen|"
    r"rückversichern|bestätigen lassen|(kollegin|kollegen|chef|chefin|ärztin|arzt|doktor|inhaber\w*|mit \w+ \w+) "
    r"(fragen|sprechen|reden))|"
    r"(erst|noch|zuerst|vorher)( \w+){0,3} (nachfragen|rückfragen|abklären|klären)|rücksprache|"
    r"unter vorbehalt|vorbehaltlich|vorläufig|provisorisch|unverbindlich|ohne gewähr|"
    r"noch nicht (ganz |hundertprozentig )?(fest|sicher|bestätigt|fix|definitiv|verbindlich)|"
    r"(kann|könnte) (ich )?(es |das |ihnen )?(noch )?nicht (versprechen|zusagen|garantieren|fest zusagen))\b"
)
# the business will call back itself ("I'll ring you back", "ich melde mich", "wir rufen Sie zurück")
CALLBACK_PROMISE = _rx(
    r"\b((i|we|she|he|someone)( will|'ll)( \w+){0,2} (call|ring|phone)( (you|him|her|them))?( \w+)? back|"
    r"(i|we)( will|'ll) (get back to you|let you know|be in touch)|"
    r"(ich|wir) (ruf|rufe|rufen)( \w+){0,3} zurück|(ruf|rufe|rufen) (ich|wir)( \w+){0,3} zurück|"
    r"(ich|wir) (ruf|rufe|rufen) (sie|ihn|ihnen|euch)( \w+){0,2} an\b|(ruf|rufe|rufen) (ich|wir) (sie|ihn|euch)( \w+){0,2} an\b|(ich|wir) (melde|melden) (mich|uns)|(melde|melden) (ich|wir) (mich|uns)|"
    r"(ich|wir) (gebe|geben|sage|sagen)( \w+){0,2} bescheid|(gebe|geben|sage|sagen) (ich|wir)( \w+){0,2} bescheid)\b"
    r"(?![^.!?]{0,20}\b(if|in case|should|falls|wenn|sollte)\b)"
)


def pending(text: str) -> bool:
    """Whether the business holds a slot only until it has made sure of it itself: it says so
    (:data:`PENDING`), or it will call back with no booking stated ("Freitag um vier könnte ich eintragen,
    ich melde mich"; not "Friday at four is booked, I'll call you back if anything changes")."""
    if PENDING.search(text):
        return True
    return bool(CALLBACK_PROMISE.search(text)) and not (nlu.CONFIRM.search(text) or CONFIRM_MORE.search(text))


# the business offers to pass a message on rather than book ("I can pass on a message and she'll ring you
# back", "Shall I leave her a note?", "ich kann es ihr ausrichten")
MESSAGE_OFFER = _rx(
    r"\b(pass (it |that |this |the message |a message )?on|pass on (a |the )?(message|note)|"
    r"(take|leave|write|put) (down )?(her |him |them |the doctor |the therapist )?(a |the )?(message|note|memo)|"
    r"(ring|call|phone) (you|him|her|them|(your|the) (client|customer|patient)) back|"
    r"get back to (you|him|her|them)|give (you|him|her|them) a (call|ring)|"
    r"nachricht|notiz|ausrichten|weitergeben|weiterleiten|ruft (sie |ihnen |euch )?(dann |gern |gerne )?zurück|"
    r"(ich|wir) (ruf|rufe|rufen) (sie|ihnen|euch) (\w+ ){0,2}zurück|(ruf|rufe|rufen) (ich|wir) (sie|ihnen) (\w+ ){0,2}zurück|"
    r"zurückrufen|"
    r"rückruf|meldet sich (dann |gern |gerne )?bei (ihnen|euch))\b"
)


_TIME_WORD = _rx(
    r"\d|\b(o'?clock|uhr|noon|half|quarter|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"eins|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|halb|viertel)\b"
)


_FREE = _rx(
    r"\b(free|available|open|can do|could do|how about|what about|give you|(we|i) (have|'ve got)|"
    r"frei|möglich|ginge|hätte)\b"
)


def names_free_slot(text: str) -> bool:
    """Whether a clause of ``text`` calls a time free or offers it ("Friday at three is free")."""
    return any(_FREE.search(c) and _TIME_WORD.search(c) for c in clauses(text))


# the business passes the call on ("Da muss ich Sie an die Kollegin weitergeben", "I'll pass you over to
# reception"): a transfer, not a message
TRANSFER = _rx(
    r"\b(sie|dich) (\w+ ){0,5}(weitergeben|weiterleiten|weiterverbinden|durchstellen|verbinden)\b|"
    r"\b(put|transfer|pass|hand|switch) you (\w+ ){0,2}(through|over|on|across)\b|\btransfer you\b"
)
# the business says it cancelled an appointment the user has ("I've cancelled his appointment on Thursday")
CANCELLED_EXISTING = _rx(
    r"\b(i'?ve|i have|we'?ve|we have) (just |now )?(cancell?ed|called off|deleted) (his|her|their|your|the)\b|"
    r"\b(ich|wir) (habe|hab|haben) (\w+ ){0,5}(storniert|abgesagt|gestrichen|gelöscht)\b|"
    r"\b(ist|wäre) (jetzt |nun |dann )?(storniert|abgesagt|gestrichen)\b"
)


def offers_message(text: str) -> bool:
    """Whether the business offers to pass a message on (and have someone call back) instead of booking: a
    time in the same breath is no offer ("her three o'clock is running late") unless it is called free; a
    transfer of the call is none either."""
    return bool(MESSAGE_OFFER.search(text)) and not names_free_slot(text) and not TRANSFER.search(text)


def _letters(text: str) -> str:
    return "".join(re.findall(r"[^\W\d_]", text)).lower()


def name_read_back(text: str, name: str) -> str | None:
    """How the business reads back the name Lisa gave: "right" (the surname spelled or said as given),
    "wrong" (a near miss: "Joe Bark, B-A-R-K?" for Joe Park), or None (no read-back in ``text``)."""
    surname = name.split()[-1] if name.split() else ""
    if len(surname) < 2:
        return None
    spelled = nlu.spelled_word(text)
    if spelled is not None and len(spelled) >= 3:
        return "right" if spelled.lower() == _letters(surname) else "wrong"
    words = [w for w in re.findall(r"[^\W\d_][\w'-]*", text) if w[0].isupper()]
    if _letters(surname) in {_letters(w) for w in words}:
        return "right"
    given = {_letters(w) for w in name.split()}
    for w in words:
        near = SequenceMatcher(None, _letters(w), _letters(surname)).ratio() >= 0.6
        if near and _letters(w) not in given:
            return "wrong"
    return None


_DURATION = re.compile(
    r"\b((?:about|around|roughly|approximately|ca\.|circa|etwa|ungefähr|rund)\s+)?"
    r"(\d+(?:[.,]\d+)?|an?|one|half an|eine[rn]?|einer halben)\s*"
    r"(minutes?|mins?|hours?|hrs?|minuten|min\.?|stunden?|std\.?)(?=\W|$)",
    re.IGNORECASE,
)


def duration(request_text: str) -> str:
    """How long the appointment takes as the request says it ("about 30 minutes", "etwa 30 Minuten"); empty
    when it says nothing about it."""
    m = _DURATION.search(request_text)
    return m.group(0).strip() if m else ""


# the business reads a slot back and asks whether it is right ("So that's Tuesday at 11:40, correct?", "Great,
# so I've got him down for Wednesday at 11:20, is that right?", "Also Dienstag um drei, richtig?")
_READ_BACK_ASK = _rx(
    r"\b(is that (right|correct|ok|okay)|(that's|that is) (right|correct)|correct|right|yes|yeah|ok|okay|"
    r"richtig|stimmt('?s| das| so)?|oder|ja|korrekt|passt das|so)\s*\?\s*$"
)
_READ_BACK_START = _rx(
    r"^\W*((great|good|lovely|okay|ok|alright|right|perfect|gut|okay|prima|alles klar|perfekt),?\s+)?"
    r"(so|also|then|dann|i'?ve got|i have|i'?ve put|ich habe|ich hab|das wäre|that'?s|that would be)\b"
)
# what makes a slot said with a question a new offer, not a read-back ("can we make it Wednesday?")
_NEW_OFFER = _rx(
    r"\b(how about|what about|instead|can we|could we|could (you|he|she)|would (he|she|you|that)|can (he|she|you)|"
    r"make it|(could|can|we|i) also|other|else|wie wäre|stattdessen|ginge|können wir|könnte|geht (auch|es)|wäre .* möglich|lieber)\b"
)


def reads_back(text: str) -> bool:
    """Whether ``text`` reads a slot back to be confirmed ("So that's Tuesday at 11:40, correct?", "Also
    Dienstag um drei, richtig?"), rather than offering a new one ("Can we make it Wednesday instead?")."""
    last = re.split(r"(?<=[.!])\s+", text.strip())[-1]
    if not last.endswith("?") or _NEW_OFFER.search(last) or CORRECTION_CUE.search(last):
        return False
    return bool(_READ_BACK_ASK.search(last) or _READ_BACK_START.search(last))


# the business will not keep the slot without something Lisa cannot give ("Without a referral I can't book
# her in", "otherwise I can't hold the table", "ohne Anzahlung kann ich den Tisch nicht halten")
_HOLD_VERB = (
    r"(hold|book|reserve|keep|take|confirm|put|do|give|schedule|halten|eintragen|buchen|reservieren|vergeben|"
    r"annehmen|freihalten|festmachen|bestätigen|behandeln|nehmen)"
)
CONDITION_REFUSED = _rx(
    r"\b(without (a |an |the |his |her |their |any )?[\w-]+( [\w-]+)?,? (i|we) (really )?(can'?t|cannot|can not|"
    r"won'?t|am not able to|are not able to|'m not able to|'re not able to)( \w+){0,2} " + _HOLD_VERB + r"|"
    r"(otherwise|or else|if not),? (i|we) (can'?t|cannot|won'?t)( \w+){0,2} " + _HOLD_VERB + r"|"
    r"(he|she|they|you)('ll| will)? (have|has|need|needs|should|must) to (ring|call|phone|contact) us (\w+ )?"
    r"(himself|herself|themselves|yourself|directly|personally)|"
    r"(he|she|they) should (ring|call|phone|contact) us (back )?(once|when|as soon as)|"
    r"ohne [\w-]+( [\w-]+)? (kann|können) (ich|wir)( \w+){0,4} nicht( \w+)? " + _HOLD_VERB + r"|"
    r"ohne [\w-]+( [\w-]+){0,2} (geht|klappt) (es|das)( leider| aber)? (leider )?nicht\b|"
    r"without (a |an |the |his |her |their |any )?[\w-]+( [\w-]+)?,? (it'?s|it is|that'?s|that is) not possible\b|"
    r"sonst (kann|können) (ich|wir)( \w+){0,4} nicht( \w+)? " + _HOLD_VERB + r"|"
    r"(soll|sollte|muss|müsste) sich( \w+){0,2} selbst (melden|anrufen|bei uns melden)|"
    r"(soll|sollte|muss) (uns |bei uns )?(\w+ ){0,2}(selbst|persönlich) anrufen|"
    r"(soll|sollte) sich (bei uns )?melden, (wenn|sobald))"
)
# the business asks for payment details Lisa never gives ("Can you give me the card details?")
PAYMENT_QUESTION = _rx(
    r"\b(card details|card number|credit card|debit card|bank details|iban|deposit|pay (now|upfront|in advance)|"
    r"kreditkarte|kartennummer|kartendaten|bankverbindung|anzahlung|vorab (be)?zahlen|vorkasse)\b"
)


# a weekday and an hour word said tersely at the end of a sentence ("Tuesday eight.", "Dienstag acht.")
_TERSE_HOUR = _rx(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|montag|dienstag|mittwoch|donnerstag|freitag|"
    r"samstag|sonntag),?\s+(?=(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|eins|zwei|drei|vier|"
    r"fünf|sechs|sieben|acht|neun|zehn|elf|zwölf)\s*(?:[.!?]|$))"
)


def terse_hour(text: str, lang: str) -> str:
    """``text`` with "at"/"um" between a weekday and an hour word said alone ("Tuesday eight." -> "Tuesday at
    eight."), which is read as an offer then."""
    return _TERSE_HOUR.sub(lambda m: f"{m.group(1)} {'um' if lang == 'de' else 'at'} ", text)


# what is said of picking up afterwards beside the drop-off time ("ab 17 Uhr abholen", "pick it up after five")
PICK_UP = _rx(
    r"[^,.;!?]*\b(pick (it|him|her|them|the car|the bike)? ?up|pick-?up|collect (it|him|her|them|the car)|"
    r"ready (by|from|at|after|around)|abholen|abholbereit|abholung|abzuholen|(ist|wäre|wird) (er|sie|es) fertig|"
    r"fertig (ab|um|gegen))\b[^,.;!?]*"
)


# who is on the line ("Sorry, who's calling?", "What company are you from?", "Wer spricht da?")
WHO_CALLING = _rx(
    r"\b(who'?s (calling|this|speaking|on the line)|who is (calling|this|speaking)|who am i speaking (to|with)|"
    r"(what|which) company|where (are you|is this) calling from|who are you|calling from where|"
    r"wer (ist|spricht) (da|dort|am apparat)|mit wem (spreche|rede) ich|von welcher firma|wer sind sie|welche firma)\b"
    r"(?![\w\s']{0,25}\bfor\b)"
)
# "Hello? Anyone there?", "Hallo? Ist da jemand?"
ANYONE_THERE = _rx(r"\b(any ?(one|body) there|is some(one|body) there|ist da jemand|jemand dran)\b")
# asked to say it again ("Sorry, you're breaking up, can you say that again?", "können Sie das wiederholen?")
REPEAT_REQUEST = _rx(
    r"\b(say (that|it) again|repeat (that|it|yourself|what you said)|could you repeat|can you repeat|come again|"
    r"pardon|what was that|didn'?t (catch|hear|get) (that|you|it|what you said)|breaking up|"
    r"wie bitte|wiederholen|nicht verstanden|noch ?(mal|einmal) sagen|nochmal,? bitte)\b"
)
# asked to read the slot back ("Can you read the date and time back to me?", "welchen nehmen Sie jetzt?")
SLOT_BACK_REQUEST = _rx(
    r"\b(read (it|that|them|the (date|time|appointment|details|slot))( and (the )?(date|time))? back|"
    r"(repeat|confirm|tell me) (the|that) (date|time|appointment|slot)|"
    r"which (one|slot|time|day) (are you|did you|do you|you'?re|will you) (taking|take|want|choose|going for)|"
    r"welche(?:n|s)? (zeit|uhrzeit|termin|davon)? ?(soll ich|möchten sie|nehmen sie|hätten sie gern|darf ich)\b|"
    r"(den|welchen) termin (nochmal|noch mal|noch einmal) (bestätigen|sagen|nennen|wiederholen)|"
    r"welchen (sie|termin|davon) (jetzt |nun )?(nehmen|genommen|möchten|wollen)|"
    r"(termin|uhrzeit|datum) (nochmal|noch mal|noch einmal) (bestätigen|sagen|nennen|wiederholen))\b"
)
# "Sure. Which one?" after Lisa took one of two: which she took
WHICH_ONE = _rx(
    r"^\W*(?:(?:sure|ok(?:ay)?|right|alright|yes|so|and)\W+)*which (?:one|time|slot)"
    r"(?: (?:then|was it|would (?:he|she) like|do you want))?\W*$"
)
# the business asks leave to book the slot talked about ("Shall I put her down for that?", "Soll ich den eintragen?")
SHALL_BOOK = _rx(
    r"\b((shall|should|can|may) i (go ahead and )?(put|book|pencil|write|pop|get|lock) (him|her|them|you|it|that|"
    r"this|that one)\b|(shall|should) i book|"
    r"(soll|darf|kann) ich (ihn|sie|den|das|es|den termin|das so|ihn so|sie so)( \w+)? "
    r"(eintragen|buchen|notieren|reservieren|festmachen|einschreiben))"
)
_UNDER_WHOM = _rx(r"\b(whom|who|under|unter|name|namen|wen)\b")


def asks_to_book(text: str) -> bool:
    """Whether the business asks leave to book the slot talked about ("Shall I put her down for that?"), not
    under which name ("Whom should I put it under?")."""
    asked = is_question(text) and not re.search(r"\b(not|nicht|kein\w*)\b|n't\b", text, re.IGNORECASE)
    return asked and bool(SHALL_BOOK.search(text)) and not _UNDER_WHOM.search(text)


# questions about the vehicle ("What car is it?", "And the registration?", "Was für ein Auto ist es denn?")
VEHICLE_QUESTION = _rx(
    r"\b((what|which) (car|vehicle|model|make)|registration|number plate|licen[cs]e plate|plate number|"
    r"what year|was für ein (auto|fahrzeug|wagen|modell)|welche[sn]? (auto|fahrzeug|wagen|modell|marke)|"
    r"kennzeichen|baujahr)\b"
)
_VEHICLE_BRIEF = _rx(
    r"\b(car|vehicle|auto|fahrzeug|wagen|registration|kennzeichen|baujahr|vw|volkswagen|golf|polo|passat|bmw|audi|"
    r"mercedes|opel|ford|toyota|skoda|seat|renault|peugeot|fiat|tesla|kia|hyundai|mazda|nissan|volvo)\b"
)
# been there before ("Has he been with us before?", "Waren Sie schon mal bei uns?")
FIRST_VISIT_QUESTION = _rx(
    r"\b(been (here|with us|to us|in|at our \w+|to our \w+) before|been with us|been here|been before|"
    r"first (time|visit)|new (patient|customer|client)|existing patient|"
    r"schon (mal |einmal )?(bei uns|hier|da)|zum ersten mal|erstes mal|neue[rn]? (patient\w*|kund\w*)|"
    r"bestandspatient\w*)\b"
)
_FIRST_VISIT_BRIEF = _rx(
    r"\b(first (visit|time|appointment)|new patient|never been|erstuntersuchung|erstbesuch|erste[rn]? (termin|besuch)|"
    r"zum ersten mal|erstes mal|neue[r]? patient\w*|neukund\w*)\b"
)
# what the appointment is about ("What's the problem?", "Was fehlt ihm denn?")
REASON_QUESTION = _rx(
    r"\b(what'?s (wrong|the problem|the matter|it about|the issue)|what is (wrong|the problem|it about)|"
    r"what (seems to be|is) the (problem|issue|matter)|reason for|symptoms?|what happened|"
    r"beschwerden|was fehlt|worum geht|was ist (denn )?(los|das problem)|grund)\b"
)


# a request that tells what is wrong ("I've had a toothache for a week", "Schmerzen im Knie seit Montag")
_COMPLAINT_BRIEF = _rx(
    r"(pain|ache|hurt|sore|broken|bleed|swell|swollen|itch|fever|cough|injur|sprain|rash|infect|problem|"
    r"schmerz|weh\b|entzünd|gebrochen|blut|geschwollen|juck|fieber|husten|verletz|verstauch|ausschlag|beschwerden)"
)


def tells_complaint(brief: str) -> bool:
    """Whether the request tells what is wrong (a pain, an injury, a problem)."""
    return bool(_COMPLAINT_BRIEF.search(brief))


def about_vehicle(brief: str) -> bool:
    """Whether the request tells about a vehicle ("Annual service for a 2018 VW Golf")."""
    return bool(_VEHICLE_BRIEF.search(brief))


def first_visit(brief: str) -> bool:
    """Whether the request says it is the first visit ("First visit.", "Erstuntersuchung")."""
    return bool(_FIRST_VISIT_BRIEF.search(brief))


# the business takes no one like the user at all ("we're not taking on new patients", "We only see private
# patients", "wir nehmen zurzeit keine neuen Patienten auf", "nur Privatpatienten")
NOT_ACCEPTING = _rx(
    r"\b((not|n'?t) (taking|accepting|registering) (on |any )?(any )?new (patients|clients|customers)|"
    r"no (longer )?(taking|accepting) (on )?new|no new (patients|clients|customers)|"
    r"(patient |waiting )?list is (closed|full)|practice is full|"
    r"only (see|take|treat|accept|do) (private|privately insured)( patients)?|private patients only|"
    r"keine neuen (patient\w*|kund\w*|klient\w*)|(nehmen|behandeln) (\w+ )?keine neuen|aufnahmestopp|"
    r"nur (noch )?(privatpatient\w*|privat versicherte|privat)( patient\w*)?\b(?! (oder|und))|"
    r"(behandeln|nehmen) (\w+ )?nur (privatpatient\w*|privat versicherte))"
)


# after a condition Lisa could not meet: "then I can't hold it", "dann kann ich den Tisch nicht halten"
THEN_REFUSED = _rx(
    r"\b((then|so|in that case),? (i|we) (really )?(can'?t|cannot|won'?t)( \w+){0,2} " + _HOLD_VERB + r"|"
    r"(dann|so) (kann|können) (ich|wir)( \w+){0,4} nicht( \w+)? " + _HOLD_VERB + r")"
)
