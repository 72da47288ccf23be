"""Whatever reaches the webhooks (any unicode, huge bodies, missing fields, repeated
keys, nonsense numbers), the answer is never a 500 and no well-formed text is lost."""

from __future__ import annotations

import uuid
from urllib.parse import quote, urlencode
from xml.etree import ElementTree

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from engage.extensions import db
from engage.models import InboundMessage
from engage.sms.inbound import normalise_phone
from engage.sms.routes import MAX_BODY

TOKEN = "test-token"
BASE = "https://engage.example.org"
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def app_config(database_url):
    return {"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": BASE}


# Any character UTF-8 can carry: everything but lone surrogates, which no HTTP client can send.
any_char = st.characters(exclude_categories=("Cs",))
any_text = st.text(any_char, max_size=200)
huge_text = st.builds(
    lambda piece, n: (piece * n)[:12_000], st.text(any_char, min_size=1, max_size=12), st.integers(800, 3000)
)
tricky_text = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "STOP\x00",
        "\x00STOP",
        "ＳＴＯＰ",
        "Sí!",
        "😀" * 100,
        "\u202eevil",
        "<Message>hi</Message>",
        "]]><x/>",
        "&amp;",
        "\r\n\r\n",
        "\ufeffHELP",
        "\U0010ffff",
        "JOIN " + "A" * 300,
    ]
)
body_text = st.one_of(any_text, huge_text, tricky_text)
good_phones = st.one_of(
    st.sampled_from(["+15105550111", "+14155550122", "5105550111", "(510) 555-0111", "+1 510 555 0111"]),
    st.integers(2_000_000, 9_999_999).map(lambda n: f"+1510{n}"),
)
bad_phones = st.one_of(
    st.sampled_from(
        ["", "+", "+1", "abc", "+99999999999999999999", "\x00", "+1510555\x000111", "whatsapp:+15105550111"]
    ),
    any_text,
)


def signed_post(client, path: str, fields: list[tuple[str, str]]):
    """A form post with the fields exactly in this order, repeated keys and all."""
    sig = RequestValidator(TOKEN).compute_signature(BASE + path, MultiDict(fields))
    return client.post(
        path,
        data=urlencode(fields),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": sig},
    )


def first(fields: list[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in fields if key == name), None)


@st.composite
def inbound_requests(draw):
    """A list of (name, value) pairs, keys repeated or left out at random."""
    fields: list[tuple[str, str]] = []
    sid_kind = draw(st.sampled_from(["new"] * 6 + ["missing", "any", "any", "blank"]))
    if sid_kind == "new":
        fields.append(("MessageSid", "SM" + uuid.uuid4().hex))
    elif sid_kind == "any":
        fields.append(("MessageSid", draw(any_text)))
    elif sid_kind == "blank":
        fields.append(("MessageSid", draw(st.sampled_from(["", " ", "\t"]))))
    if draw(st.integers(0, 9)):
        fields.append(("From", draw(good_phones if draw(st.integers(0, 3)) else bad_phones)))
    if draw(st.integers(0, 9)):
        fields.append(("Body", draw(body_text)))
    fields.append(("To", "+15005550006"))
    for _ in range(draw(st.integers(0, 3))):  # repeated and unexpected keys
        key = draw(st.sampled_from(["Body", "From", "MessageSid", "SmsSid", "NumMedia", "X"]) | any_text)
        fields.append((key, draw(st.one_of(body_text, bad_phones, good_phones))))
    return draw(st.permutations(fields))


@FUZZ
@given(fields=inbound_requests())
def test_the_inbound_webhook_never_fails_and_never_loses_a_text(app, cast, fields):
    response = signed_post(app.test_client(), "/sms/inbound", fields)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    root = ElementTree.fromstring(response.get_data())  # noqa: S314 - engage's own answer
    assert root.tag == "Response"

    sid = (first(fields, "MessageSid") or "").strip()
    body = first(fields, "Body") or ""
    if sid.startswith("SM") and len(sid) == 34 and normalise_phone(first(fields, "From")) is not None:
        db.session.expire_all()
        stored = db.session.scalar(sa.select(InboundMessage).where(InboundMessage.message_sid == sid))
        assert stored is not None, fields
        event("a well-formed text was stored")
        assert stored.body == body[:MAX_BODY].replace("\x00", "")


@FUZZ
@given(
    fields=st.lists(
        st.tuples(
            st.sampled_from(["MessageSid", "SmsSid", "MessageStatus", "SmsStatus", "ErrorCode", "To"]) | any_text,
            st.one_of(any_text, st.sampled_from(["delivered", "sent", "failed", "21610", "SM" + "0" * 32])),
        ),
        max_size=8,
    ),
    query=st.one_of(st.just(""), st.text(any_char, max_size=20), st.integers(-5, 2**40).map(str)),
)
def test_the_status_webhook_never_fails(app, cast, fields, query):
    path = "/sms/status" + (f"?o={quote(query, safe='')}" if query else "")
    response = signed_post(app.test_client(), path, fields)
    assert response.status_code == 204


def test_a_nul_in_the_message_sid_is_not_a_500(app, cast):
    """PostgreSQL refuses NUL in text; the sid must be cleaned like the body is."""
    fields = [("MessageSid", "SM\x00" + "1" * 31), ("From", "+15105550111"), ("Body", "hola")]
    response = signed_post(app.test_client(), "/sms/inbound", fields)
    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundMessage)) == 1


def test_a_huge_body_is_stored_up_to_twilios_limit(app, cast):
    body = "Á" * 10_000
    fields = [("MessageSid", "SM" + "2" * 32), ("From", "+15105550111"), ("Body", body)]
    assert signed_post(app.test_client(), "/sms/inbound", fields).status_code == 200
    stored = db.session.scalar(sa.select(InboundMessage))
    assert stored.body == body[:MAX_BODY]


@settings(max_examples=500, deadline=None)
@example("+1٥٥٩٢٠٠١٢٣٤")  # Arabic-Indic digits: phonenumbers reads them as 0-9
@example("+1５５９２００１２３４")  # full-width digits
@given(
    st.one_of(
        st.from_regex(r"\A\+1[0-9]{10}\Z"),
        st.from_regex(r"\A\+1\d{10}\Z"),  # any script's digits
        st.from_regex(r"\A\+?1?[0-9 ()\-.]{6,16}\Z"),
        st.text(max_size=20),
    )
)
def test_a_number_read_without_parsing_is_what_phonenumbers_makes_of_it(raw):
    """normalise_phone answers "+1" and ten digits without phonenumbers; its answer is
    the same as phonenumbers' for any such string, and for everything else it asks it."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(raw, "US")
        expected = (
            phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            if phonenumbers.is_possible_number(parsed)
            else None
        )
    except phonenumbers.NumberParseException:
        expected = None
    assert normalise_phone(raw) == expected
