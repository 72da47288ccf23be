"""Folding text for matching: the one place that decides when two spellings are "the
same" — SMS words ("Sí!", "ＳＴＯＰ", "stop."), a member's stored search name, and what a
coordinator types to find someone ("diaz" finds "Díaz")."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Full-width to ASCII, accents off, lower case, one space between words,
    punctuation and symbols trimmed from both ends."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    text = unicodedata.normalize("NFC", text).casefold()
    text = " ".join(text.split())
    start, end = 0, len(text)
    while start < end and _is_edge(text[start]):
        start += 1
    while end > start and _is_edge(text[end - 1]):
        end -= 1
    return text[start:end]


def _is_edge(char: str) -> bool:
    return char.isspace() or unicodedata.category(char)[0] in "PSZC"
