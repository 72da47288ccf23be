"""Demo data in all three languages. ``load_demo`` can run any number of times."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from engage.extensions import db
from engage.models import (
    Committee,
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    Member,
    MemberSource,
    Organisation,
    Plan,
    ReferralCode,
    Role,
    SmsStatus,
    StaffUser,
    utcnow,
)

DEMO_REFERRAL_CODE = "FAMILIA"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed for the demo on purpose

PLAN = {
    "slug": "valle-central",
    "name": "Valle Central Health Plan",
    "short_name": "Valle Central",
    "colour": "#1f5f8b",
    "contact_phone": "(559) 555-0100",
    "contact_email": "cac@valle-central.example.org",
    "website": "https://valle-central.example.org",
}

COMMITTEES = [
    {
        "slug": "valle-central-children",
        "name": {
            "en": "Children and Families Advisory Committee",
            "es": "Comité Asesor de Niños y Familias",
            "zh_Hant": "兒童與家庭諮詢委員會",
        },
        "description": {
            "en": "Parents and caregivers of children on Medi-Cal meet four times a year to advise the plan on check-ups, "
            "dental care, interpreters and health information for families.\n\n"
            "Free childcare, interpreters and a $75 gift card for each meeting.",
            "es": "Madres, padres y cuidadores de niños con Medi-Cal se reúnen cuatro veces al año para aconsejar al plan "
            "sobre chequeos, cuidado dental, intérpretes e información de salud para las familias.\n\n"
            "Cuidado de niños gratis, intérpretes y una tarjeta de regalo de $75 por cada reunión.",
            "zh_Hant": "孩子參加 Medi-Cal 的家長和照顧者每年開會四次，就兒童健康檢查、牙科護理、口譯服務和家庭健康資訊向健康計劃提出建議。\n\n"
            "每次會議提供免費托兒、口譯員和 75 美元禮品卡。",
        },
    },
    {
        "slug": "valle-central-fresno",
        "name": {
            "en": "Fresno County Community Advisory Committee",
            "es": "Comité Asesor Comunitario del Condado de Fresno",
        },
        "description": {
            "en": "Members who live in Fresno County advise the plan on its community health needs and health equity work.",
            "es": "Miembros que viven en el condado de Fresno aconsejan al plan sobre las necesidades de salud de la "
            "comunidad y su trabajo de equidad en salud.",
        },
    },
]

ORGANISATION = {
    "slug": "familias-unidas",
    "name": "Familias Unidas Family Resource Center",
    "contact_phone": "(559) 555-0142",
    "contact_email": "hola@familias-unidas.example.org",
    "counties": ["Fresno", "Madera"],
}

STAFF = [
    ("admin", "admin@engage.example.org", "Alex Admin", None),
    ("coordinator", "coordinator@valle-central.example.org", "Rosa Martínez", "es"),
    ("cbo", "staff@familias-unidas.example.org", "Lily Chen", "zh_Hant"),
]

# Numbers in the 555-01xx range are reserved for fiction.
MEMBERS = [
    ("Maria", "+15595550123", "es", "Fresno", "93701", ["0-5", "6-12"], MemberSource.CBO),
    ("Wei", "+14155550132", "zh_Hant", "Fresno", "93702", ["6-12"], MemberSource.WEB),
    ("Jasmine", "+15595550147", "en", "Madera", "93637", ["13-17"], MemberSource.SMS),
    ("Guadalupe", "+15595550158", "es", "Fresno", "93706", ["0-5"], MemberSource.SMS),
    ("Mei Ling", "+15595550169", "zh_Hant", "Fresno", "93710", ["0-5", "13-17"], MemberSource.CBO),
    ("Tanya", "+15595550171", "en", "Fresno", "93721", ["6-12"], MemberSource.WEB),
]

CONSENT_WORDS = {
    "en": "I agree to get text messages from engage about parent advisory meetings. About 4 messages a month. "
    "Msg & data rates may apply. Reply STOP to stop, HELP for help.",
    "es": "Acepto recibir mensajes de texto de engage sobre las reuniones de padres. Unos 4 mensajes al mes. "
    "Pueden aplicarse tarifas de mensajes y datos. Responda ALTO para cancelar, AYUDA para ayuda.",
    "zh_Hant": "我同意接收 engage 關於家長諮詢會議的簡訊。每月約 4 則。可能產生簡訊及數據費用。回覆「停止」即可取消，回覆「幫助」取得協助。",
}


def _get_or_create(model, lookup: dict, values: dict):
    obj = db.session.scalar(sa.select(model).filter_by(**lookup))
    if obj is None:
        obj = model(**lookup, **values)
        db.session.add(obj)
        db.session.flush()
    return obj


def load_demo() -> list[tuple[str, str, str]]:
    """Create the demo plan, committees, organisation, staff and parents if missing.

    Returns (role, email, password) for each demo login.
    """
    plan = _get_or_create(Plan, {"slug": PLAN["slug"]}, {k: v for k, v in PLAN.items() if k != "slug"})
    for spec in COMMITTEES:
        _get_or_create(
            Committee,
            {"slug": spec["slug"]},
            {"plan_id": plan.id, "name": spec["name"], "description": spec["description"]},
        )
    org = _get_or_create(
        Organisation, {"slug": ORGANISATION["slug"]}, {k: v for k, v in ORGANISATION.items() if k != "slug"}
    )
    if plan not in org.plans:
        org.plans.append(plan)
    referral = _get_or_create(
        ReferralCode,
        {"code": DEMO_REFERRAL_CODE},
        {"organisation_id": org.id, "plan_id": plan.id, "label": "Fresno back-to-school fair"},
    )

    logins = []
    for role, email, name, locale in STAFF:
        user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email))
        if user is None:
            user = StaffUser(email=email, name=name, role=Role(role), locale=locale)
            user.set_password(DEMO_PASSWORD)
            if role == "coordinator":
                user.plans = [plan]
            if role == "cbo":
                user.organisation = org
            db.session.add(user)
        logins.append((role, email, DEMO_PASSWORD))
    db.session.flush()
    cbo_user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == STAFF[2][1]))

    now = utcnow()
    for i, (name, phone, locale, county, zip_code, ages, source) in enumerate(MEMBERS):
        if db.session.scalar(sa.select(Member.id).where(Member.phone == phone)) is not None:
            continue
        joined = now - timedelta(days=120 - i * 9)
        member = Member(
            display_name=name,
            phone=phone,
            locale=locale,
            county=county,
            zip_code=zip_code,
            child_age_groups=ages,
            source=source,
            plan_id=plan.id,
            organisation_id=org.id if source == MemberSource.CBO else None,
            referral_code_id=referral.id if source == MemberSource.CBO else None,
            participation=["committee", "feedback"] if i % 2 == 0 else ["feedback", "surveys"],
            needs={"childcare": True, "interpreter": locale != "en", "transport": i % 3 == 0}
            | ({"interpreter_language": {"es": "spanish", "zh_Hant": "cantonese"}[locale]} if locale != "en" else {}),
            sms_status=SmsStatus.ACTIVE,
            confirmed_at=joined,
            created_at=joined,
        )
        db.session.add(member)
        db.session.flush()
        db.session.add(
            ConsentEvent(
                phone=phone,
                member_id=member.id,
                action=ConsentAction.OPT_IN,
                channel=ConsentChannel(source.value),
                locale=locale,
                words_shown=CONSENT_WORDS[locale],
                keyword={"es": "UNIRME", "zh_Hant": "加入"}.get(locale, "JOIN") if source == MemberSource.SMS else None,
                assisted_by_id=cbo_user.id if source == MemberSource.CBO and cbo_user else None,
                created_at=joined,
            )
        )
    db.session.flush()
    _demo_rosters_and_messages(plan, now)
    return logins


# (member's phone, minutes ago, text they sent, coordinator's answer or None)
DEMO_TEXTS = [
    ("+15595550123", 95, "¿Habrá cuidado de niños en la próxima reunión? Tengo dos niños pequeños.", None),
    ("+14155550132", 240, "請問下次開會可以帶孩子一起去嗎？", None),
    (
        "+15595550147",
        60 * 26,
        "Can I join the meeting by phone? I work until 6.",
        "Yes! We will text you the call-in number the day before.",
    ),
]


def _demo_rosters_and_messages(plan: Plan, now) -> None:
    from engage.models import (
        CommitteeMembership,
        Conversation,
        InboundMessage,
        OutboxKind,
        OutboxMessage,
        OutboxStatus,
        RosterRole,
    )
    from engage.sms.segments import count_segments

    children = db.session.scalar(sa.select(Committee).where(Committee.slug == COMMITTEES[0]["slug"]))
    members = db.session.scalars(sa.select(Member).where(Member.plan_id == plan.id).order_by(Member.id)).all()
    seated = set(
        db.session.scalars(
            sa.select(CommitteeMembership.member_id).where(CommitteeMembership.committee_id == children.id)
        )
    )
    for i, member in enumerate(members):
        if member.id not in seated:
            role = RosterRole.CHAIR if i == 0 else RosterRole.MEMBER
            db.session.add(
                CommitteeMembership(committee_id=children.id, member_id=member.id, role=role, term_start=now)
            )

    for n, (phone, minutes_ago, text, answer) in enumerate(DEMO_TEXTS):
        sid = f"SMdemo{n:026d}"
        if db.session.scalar(sa.select(InboundMessage.id).where(InboundMessage.message_sid == sid)):
            continue
        member = db.session.scalar(sa.select(Member).where(Member.phone == phone))
        at = now - timedelta(minutes=minutes_ago)
        conv = db.session.scalar(sa.select(Conversation).where(Conversation.phone == phone))
        if conv is None:
            conv = Conversation(phone=phone, member_id=member.id, created_at=at)
            db.session.add(conv)
            db.session.flush()
        conv.last_inbound_at = at
        conv.last_message_at = at
        conv.needs_reply = answer is None
        db.session.add(InboundMessage(message_sid=sid, conversation_id=conv.id, body=text, received_at=at))
        if answer:
            body = f"{plan.short_name}: {answer}"
            db.session.add(
                OutboxMessage(
                    phone=phone,
                    member_id=member.id,
                    conversation_id=conv.id,
                    kind=OutboxKind.DIRECT,
                    body=body,
                    locale=member.locale,
                    segments=count_segments(body).count,
                    status=OutboxStatus.DELIVERED,
                    due_at=at + timedelta(minutes=20),
                    quiet_hours=False,
                    priority=2,
                    attempts=1,
                    via="console",
                    sent_at=at + timedelta(minutes=20),
                    delivered_at=at + timedelta(minutes=21),
                    created_at=at + timedelta(minutes=20),
                )
            )
            conv.last_message_at = at + timedelta(minutes=20)
            conv.handled_at = at + timedelta(minutes=20)
    db.session.flush()
