"""The SMS words (CONTRACT), matched after folding case, accents, full-width
characters, spacing and surrounding punctuation: "Sí!", "ＳＴＯＰ" and "stop." all count."""

from __future__ import annotations

from dataclasses import dataclass

from engage.text import fold

STOP, START, HELP, JOIN, YES, NO, LANGUAGE = "stop", "start", "help", "join", "yes", "no", "language"

# word -> (intent, the language the word is in; None when it says nothing about language)
WORDS: dict[str, tuple[str, str | None]] = {}


def _add(intent: str, locale: str | None, *words: str) -> None:
    for word in words:
        WORDS[fold(word)] = (intent, locale)


_add(JOIN, "en", "JOIN")
_add(JOIN, "es", "UNIRME", "UNIR")
_add(JOIN, "zh_Hant", "加入")
_add(STOP, "en", "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT")
_add(STOP, "es", "ALTO", "PARAR", "CANCELAR", "BAJA")
_add(STOP, "zh_Hant", "停止", "取消", "退訂", "退订")
_add(START, "en", "START", "UNSTOP")
_add(HELP, "en", "HELP", "INFO")
_add(HELP, "es", "AYUDA")
_add(HELP, "zh_Hant", "幫助", "帮助")
_add(YES, "en", "YES", "Y")
_add(YES, "es", "SI", "SÍ")
_add(YES, None, "1")
_add(YES, "zh_Hant", "是", "好")
_add(NO, None, "NO", "N", "2")
_add(NO, "zh_Hant", "不", "否")
_add(LANGUAGE, "en", "ENGLISH")
_add(LANGUAGE, "es", "ESPAÑOL", "ESPANOL")
_add(LANGUAGE, "zh_Hant", "中文")


@dataclass(frozen=True)
class Match:
    intent: str | None  # None: free text for a coordinator
    locale: str | None  # the language of the word, when it tells us
    rest: str = ""  # words after a JOIN keyword (a referral code)


def match(body: str | None) -> Match:
    folded = fold(body or "")
    if folded in WORDS:
        return Match(*WORDS[folded])
    # "JOIN CODE" / "UNIRME CODE" / "加入 CODE": a join word followed by a referral code.
    first, _, rest = folded.partition(" ")
    if first in WORDS and WORDS[first][0] == JOIN and rest:
        return Match(JOIN, WORDS[first][1], rest.upper())
    return Match(None, None)
