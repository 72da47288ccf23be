"""Segments: GSM-7 160 (153 a part), UCS-2 70 (67 a part); and every text engage
writes fits in two segments in every language it speaks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask_babel import force_locale

from engage.sms import texts
from engage.sms.segments import count_segments

MAX_SEGMENTS = 2


@pytest.mark.parametrize(
    ("text", "encoding", "units", "count"),
    [
        ("", "GSM-7", 0, 0),
        ("a", "GSM-7", 1, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),  # 2 × 153
        ("a" * 307, "GSM-7", 307, 3),
        ("a" * 459, "GSM-7", 459, 3),
        ("a" * 460, "GSM-7", 460, 4),
        ("中" * 70, "UCS-2", 70, 1),
        ("中" * 71, "UCS-2", 71, 2),
        ("中" * 134, "UCS-2", 134, 2),  # 2 × 67
        ("中" * 135, "UCS-2", 135, 3),
        ("a" * 69 + "á", "UCS-2", 70, 1),
        ("a" * 70 + "á", "UCS-2", 71, 2),
        # Extension characters take an escape and a septet: two units each.
        ("€" * 80, "GSM-7", 160, 1),
        ("€" * 80 + "a", "GSM-7", 161, 2),
        ("a" * 159 + "[", "GSM-7", 161, 2),
        ("a" * 158 + "^", "GSM-7", 160, 1),
        ("{}[]~|\\^€", "GSM-7", 18, 1),
        # An emoji is two UTF-16 code units.
        ("🙂" * 35, "UCS-2", 70, 1),
        ("🙂" * 35 + "a", "UCS-2", 71, 2),
    ],
)
def test_segment_boundaries(text, encoding, units, count):
    seg = count_segments(text)
    assert (seg.encoding, seg.units, seg.count) == (encoding, units, count)


@pytest.mark.parametrize("char", list("éñüÑÜ¿¡àèùìòÉÄÖäöÅåÇØøæÆß£¥§") + ["\n"])
def test_characters_in_gsm7_keep_the_160_limit(char):
    seg = count_segments(char * 160)
    assert (seg.encoding, seg.count) == ("GSM-7", 1)


@pytest.mark.parametrize("char", list("áíóúÁÍÓÚçâêôõãÀ") + ["中", "文", "’", "“", "—", "…", "\u00a0"])
def test_characters_outside_gsm7_force_ucs2(char):
    seg = count_segments("a" * 100 + char)
    assert (seg.encoding, seg.count) == ("UCS-2", 2)


def test_spanish_with_only_gsm_accents_stays_gsm7():
    text = "¿Niños? ¡Sí, señor! Über é"
    assert count_segments(text.replace("Sí", "Si")).encoding == "GSM-7"
    assert count_segments(text).encoding == "UCS-2"  # the í


def test_cost_is_price_per_segment_times_segments():
    assert count_segments("a" * 161).cost(Decimal("0.0083")) == Decimal("0.0166")


# Every template, every language --------------------------------------------------------


def rendered_texts(app):
    """(locale, template name, text) for every template in every language engage speaks."""
    out = []
    with app.test_request_context():
        all_locales = app.config["ENGAGE_LOCALES"]
        for loc in all_locales:
            with force_locale(loc):
                for name, (render, sample) in sorted(texts.TEMPLATES.items()):
                    out.append((loc, name, render(**sample), sample))
        out.append(("all", "unknown_number", texts.unknown_number(all_locales), {}))
    return out


def test_the_app_speaks_the_three_contract_languages(app):
    assert {"en", "es", "zh_Hant"} <= set(app.config["ENGAGE_LOCALES"])


def test_every_template_is_registered_with_samples():
    expected = {
        "stop_confirmation",
        "start_confirmation",
        "help_text",
        "help_text_no_contact",
        "received",
        "language_changed",
        "signed",
        "join_prompt",
    }
    assert expected <= set(texts.TEMPLATES)


def test_every_template_in_every_language_fits_in_two_segments(app):
    too_long = []
    for loc, name, text, _sample in rendered_texts(app):
        seg = count_segments(text)
        if seg.count > MAX_SEGMENTS:
            too_long.append(f"{loc}/{name}: {seg.count} segments ({seg.encoding}, {seg.units} units): {text!r}")
    assert not too_long, "write shorter:\n" + "\n".join(too_long)


def test_every_template_names_the_plan_and_keeps_its_values(app):
    missing = []
    for loc, name, text, sample in rendered_texts(app):
        assert text.strip(), f"{loc}/{name} is empty"
        for key, value in sample.items():
            if value not in text:
                missing.append(f"{loc}/{name} lost {key}={value!r}: {text!r}")
    assert not missing, "\n".join(missing)


def test_the_unknown_number_prompt_has_one_line_per_language(app):
    with app.test_request_context():
        all_locales = app.config["ENGAGE_LOCALES"]
        text = texts.unknown_number(all_locales)
        lines = text.split("\n")
        assert len(lines) == len(all_locales)
        with force_locale("en"):
            assert lines[0] == texts.join_prompt()
        assert "JOIN" in lines[0]
