"""The SMS words of CONTRACT, in every form a phone keyboard produces."""

from __future__ import annotations

import pytest

from engage.sms import keywords
from engage.sms.keywords import HELP, JOIN, LANGUAGE, NO, START, STOP, YES, fold, match

# CONTRACT's table, word by word: (word, intent, the language the word says, or None).
CONTRACT_WORDS = [
    ("JOIN", JOIN, "en"),
    ("UNIRME", JOIN, "es"),
    ("UNIR", JOIN, "es"),
    ("加入", JOIN, "zh_Hant"),
    ("STOP", STOP, "en"),
    ("STOPALL", STOP, "en"),
    ("UNSUBSCRIBE", STOP, "en"),
    ("CANCEL", STOP, "en"),
    ("END", STOP, "en"),
    ("QUIT", STOP, "en"),
    ("REVOKE", STOP, "en"),
    ("OPTOUT", STOP, "en"),
    ("OPT OUT", STOP, "en"),
    ("ALTO", STOP, "es"),
    ("PARAR", STOP, "es"),
    ("CANCELAR", STOP, "es"),
    ("BAJA", STOP, "es"),
    ("停止", STOP, "zh_Hant"),
    ("取消", STOP, "zh_Hant"),
    ("退訂", STOP, "zh_Hant"),
    ("退订", STOP, "zh_Hant"),
    ("START", START, None),
    ("UNSTOP", START, None),
    ("HELP", HELP, "en"),
    ("INFO", HELP, "en"),
    ("AYUDA", HELP, "es"),
    ("幫助", HELP, "zh_Hant"),
    ("帮助", HELP, "zh_Hant"),
    ("YES", YES, None),
    ("Y", YES, None),
    ("SI", YES, None),
    ("SÍ", YES, None),
    ("1", YES, None),
    ("是", YES, "zh_Hant"),
    ("好", YES, "zh_Hant"),
    ("NO", NO, None),
    ("N", NO, None),
    ("2", NO, None),
    ("不", NO, "zh_Hant"),
    ("否", NO, "zh_Hant"),
    ("ENGLISH", LANGUAGE, "en"),
    ("ESPAÑOL", LANGUAGE, "es"),
    ("ESPANOL", LANGUAGE, "es"),
    ("中文", LANGUAGE, "zh_Hant"),
]
# Intents whose words must name their language (sign-up and language switch depend on it).
LANGUAGE_BOUND = {JOIN, LANGUAGE}


def full_width(text: str) -> str:
    """What a Chinese or Japanese keyboard types for ASCII: U+FF01.. and the ideographic space."""
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def forms(word: str) -> list[str]:
    """Every way a person might type ``word``."""
    variants = {
        word,
        word.lower(),
        word.capitalize(),
        word.swapcase(),
        f"  {word}  ",
        f"\t{word}\n",
        f"{word}!",
        f"{word}.",
        f"¡{word}!",
        f"¿{word}?",
        f'"{word}"',
        f"{word}!!!",
        f"{word} 🙂",
        f"{word}\u200b",  # a zero-width space left behind by a keyboard
        f"\u00a0{word}\u00a0",  # no-break spaces
        f"{word}。",  # ideographic full stop
        f"{word}！",  # full-width exclamation mark
        full_width(word),
        full_width(word.lower()),
        f"\u3000{full_width(word)}\u3000",
    }
    if " " in word:
        variants |= {word.replace(" ", "  "), word.replace(" ", "\t"), word.replace(" ", "\u3000")}
    return sorted(variants)


CASES = [(form, intent, locale) for word, intent, locale in CONTRACT_WORDS for form in forms(word)]


@pytest.mark.parametrize(("body", "intent", "locale"), CASES, ids=[repr(c[0]) for c in CASES])
def test_every_contract_word_in_every_form_maps_to_its_intent(body, intent, locale):
    found = match(body)
    assert found.intent == intent
    if intent in LANGUAGE_BOUND or locale is not None:
        assert found.locale == locale
    assert found.rest == ""


@pytest.mark.parametrize(
    ("body", "intent"),
    [
        ("Sí!", YES),
        ("sí", YES),
        ("SÍ.", YES),
        ("si", YES),
        ("stop.", STOP),
        ("Stop", STOP),
        ("ＳＴＯＰ", STOP),
        ("ｓｔｏｐ", STOP),
        (" 停止 ", STOP),
        ("停止。", STOP),
        ("OPT OUT", STOP),
        ("opt  out", STOP),
        ("Opt Out!", STOP),
        ("Álto", STOP),  # an accent where none belongs still counts
        ("Ayúda", HELP),
        ("İNFO", HELP),  # a dotted capital I lower-cases with a combining dot
        ("Español", LANGUAGE),
        ("espanol", LANGUAGE),
        ("ESPAÑOL!", LANGUAGE),
        ("好！", YES),
        ("１", YES),  # full-width digit
        ("2.", NO),
        ("No!", NO),
    ],
)
def test_the_forms_named_in_the_issue(body, intent):
    assert match(body).intent == intent


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   ",
        "!!!",
        "🙂",
        None,
        "Can I bring my kids to the meeting?",
        "stop calling me",  # a sentence is for a coordinator, not a keyword
        "please stop",
        "yes please",
        "I said no",
        "STOPP",
        "STOPS",
        "OPT",
        "OUT",
        "OPTOUTS",
        "JOINED",
        "1 2",
        "12",
        "3",
        "Hola, ¿cómo están?",
        "我想參加",
        "停止了",
        "s t o p",
        "ST OP",
        "helpful",
    ],
)
def test_free_text_is_not_a_keyword(body):
    found = match(body)
    assert found.intent is None
    assert found.locale is None


@pytest.mark.parametrize(
    ("body", "locale", "code"),
    [
        ("JOIN ABC123", "en", "ABC123"),
        ("join abc123", "en", "ABC123"),
        ("Join  abc123!", "en", "ABC123"),
        ("ＪＯＩＮ ＡＢＣ１２３", "en", "ABC123"),
        ("UNIRME ABC123", "es", "ABC123"),
        ("unir abc123", "es", "ABC123"),
        ("Únirme ABC123.", "es", "ABC123"),
        ("加入 ABC123", "zh_Hant", "ABC123"),
        ("加入　ABC123", "zh_Hant", "ABC123"),
    ],
)
def test_join_followed_by_a_code_gives_the_code_and_the_language(body, locale, code):
    found = match(body)
    assert (found.intent, found.locale, found.rest) == (JOIN, locale, code)


@pytest.mark.parametrize("body", ["STOP ABC123", "HELP me", "YES 2", "ABC123 JOIN"])
def test_only_a_join_word_takes_a_code(body):
    assert match(body).intent is None


def test_the_table_holds_every_contract_word_and_nothing_else():
    assert set(keywords.WORDS) == {fold(word) for word, _intent, _locale in CONTRACT_WORDS}


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("  ＳＴＯＰ  ", "stop"),
        ("Sí!", "si"),
        ("opt \t out", "opt out"),
        ("¿Qué?", "que"),
        ("退訂", "退訂"),  # Chinese characters are left alone (Traditional stays Traditional)
        ("", ""),
    ],
)
def test_fold(raw, folded):
    assert fold(raw) == folded
