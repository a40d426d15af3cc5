"""Cut a stream of text pieces into sentence-sized chunks, so speech synthesis can start early."""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator

# Words after which a period does not end a sentence (en + de).
_ABBREVIATIONS = {
    "dr", "mr", "mrs", "ms", "st", "nr", "no", "z.b", "u.a", "bzw", "ca", "usw", "vgl", "str", "e.g", "i.e",
    "etc", "fr", "hr", "prof", "tel",
}  # fmt: skip
_BOUNDARY = re.compile(r"[.!?…]+[\"')\]]*\s+")


def _is_real_boundary(text: str, end_of_punct: int) -> bool:
    before = text[:end_of_punct].rstrip(".!?…\"')] ")
    word = before.rsplit(None, 1)[-1].lower() if before.split() else ""
    if text[end_of_punct - 1] == "." or text[:end_of_punct].rstrip().endswith("."):
        if word.rstrip(".") in _ABBREVIATIONS:
            return False
        if word.isdigit():  # "am 25. November", "Nr. 3."
            return False
    return True


def split_sentences(text: str) -> tuple[list[str], str]:
    """Return the complete sentences in ``text`` and the unfinished rest."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if _is_real_boundary(text, match.end()):
            sentence = text[start : match.end()].strip()
            if sentence:
                sentences.append(sentence)
            start = match.end()
    return sentences, text[start:]


async def sentence_chunks(pieces: AsyncIterable[str]) -> AsyncIterator[str]:
    """Re-chunk streamed text pieces into sentences; the tail is flushed at the end."""
    buffer = ""
    async for piece in pieces:
        buffer += piece
        sentences, buffer = split_sentences(buffer)
        for sentence in sentences:
            yield sentence
    if buffer.strip():
        yield buffer.strip()
