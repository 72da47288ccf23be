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
    _demo_meetings(plan, now)
    _demo_supports_and_input(plan, now)
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


# Meetings ----------------------------------------------------------------------------------
# Agendas and minutes are written by staff in each language (not catalog strings).

DEMO_PLACE = {
    "location_name": "Familias Unidas Family Resource Center",
    "address": "2045 Tulare St, Fresno, CA 93721",
    "accessibility_notes": {
        "en": "Step-free entrance on Tulare Street. Free parking behind the building. A quiet room for nursing parents.",
        "es": "Entrada sin escalones por la calle Tulare. Estacionamiento gratis detrás del edificio. "
        "Una sala tranquila para madres que amamantan.",
        "zh_Hant": "圖萊里街入口沒有台階。大樓後面有免費停車場。設有安靜的哺乳室。",
    },
}

AGENDA_FULL = {
    "en": "1. Welcome and introductions\n"
    "2. What the plan did about clinic wait times (from our last meeting)\n"
    "3. Dental check-ups for young children: what makes them hard to get?\n"
    "4. New health education flyers in Spanish and Chinese: your review\n"
    "5. Questions, and the date of the next meeting",
    "es": "1. Bienvenida y presentaciones\n"
    "2. Lo que hizo el plan sobre los tiempos de espera en las clínicas (de nuestra última reunión)\n"
    "3. Chequeos dentales para niños pequeños: ¿qué los hace difíciles de conseguir?\n"
    "4. Nuevos folletos de salud en español y chino: su opinión\n"
    "5. Preguntas y la fecha de la próxima reunión",
    "zh_Hant": "1. 歡迎及自我介紹\n"
    "2. 健康計劃如何處理診所等候時間（上次會議的跟進）\n"
    "3. 幼兒牙科檢查：為什麼很難預約？\n"
    "4. 新的西班牙文及中文健康教育傳單：請提供意見\n"
    "5. 問題及下次會議日期",
}

# No Chinese version yet: the page says so instead of showing English.
AGENDA_NO_CHINESE = {
    "en": "1. Welcome\n"
    "2. Population Needs Assessment: what families in Fresno and Madera need most\n"
    "3. Interpreters at the pharmacy: your experiences\n"
    "4. Questions",
    "es": "1. Bienvenida\n"
    "2. Evaluación de las necesidades de la población: lo que más necesitan las familias de Fresno y Madera\n"
    "3. Intérpretes en la farmacia: sus experiencias\n"
    "4. Preguntas",
}

AGENDA_FLYER = {
    "en": "1. Welcome\n2. The new flyer about free dental check-ups: your review\n3. Questions",
    "es": "1. Bienvenida\n2. El nuevo folleto sobre los chequeos dentales gratuitos: su opinión\n3. Preguntas",
    "zh_Hant": "1. 歡迎\n2. 免費牙科檢查新傳單：請提供意見\n3. 問題",
}

AGENDA_WAIT_TIMES = {
    "en": "1. Welcome\n2. Waiting for a first visit with a children's doctor\n3. Reminder calls in your language\n"
    "4. Questions",
    "es": "1. Bienvenida\n2. La espera para la primera cita con el pediatra\n3. Llamadas de recordatorio en su idioma\n"
    "4. Preguntas",
    "zh_Hant": "1. 歡迎\n2. 第一次預約兒科醫生的等候時間\n3. 以您的語言致電提醒\n4. 問題",
}

MINUTES_WAIT_TIMES = {
    "en": "Parents, the coordinator and staff from the plan's quality team met.\n\n"
    "Parents said it takes too long to get a first visit with a new children's doctor. "
    "Some had waited more than a month.\n\n"
    "The plan will look at wait times at each clinic and report back at the next meeting.\n\n"
    "Parents asked for appointment reminder calls in Spanish and Cantonese.",
    "es": "Se reunieron madres y padres, la coordinadora y personal del equipo de calidad del plan.\n\n"
    "Las familias dijeron que tarda demasiado conseguir la primera cita con un nuevo pediatra. "
    "Algunas esperaron más de un mes.\n\n"
    "El plan revisará los tiempos de espera de cada clínica e informará en la próxima reunión.\n\n"
    "Las familias pidieron llamadas para recordar las citas en español y en cantonés.",
    "zh_Hant": "家長、協調員和健康計劃品質團隊的職員出席了會議。\n\n"
    "家長表示，第一次預約新的兒科醫生要等很久，有些家長等了一個多月。\n\n"
    "健康計劃會查看每間診所的等候時間，並在下次會議報告。\n\n"
    "家長要求以西班牙語和粵語致電提醒預約。",
}

MINUTES_FLYER = {
    "en": "The group reviewed the plan's new flyer about free dental check-ups.\n\n"
    "Parents said the flyer used hard words, and asked for pictures and shorter sentences.\n\n"
    "The plan agreed to rewrite the flyer with parents before it is printed.",
    "es": "El grupo revisó el nuevo folleto del plan sobre los chequeos dentales gratuitos.\n\n"
    "Las familias dijeron que el folleto usaba palabras difíciles y pidieron dibujos y frases más cortas.\n\n"
    "El plan aceptó volver a escribir el folleto junto con las familias antes de imprimirlo.",
    "zh_Hant": "小組審閱了健康計劃關於免費牙科檢查的新傳單。\n\n"
    "家長表示傳單用詞太難，希望加入圖片並使用較短的句子。\n\n"
    "健康計劃同意在印刷前與家長一起重寫傳單。",
}

CANCEL_REASON = {
    "en": "The community center is closed for repairs. We will meet again next month.",
    "es": "El centro comunitario está cerrado por reparaciones. Nos reuniremos de nuevo el próximo mes.",
    "zh_Hant": "社區中心因維修而關閉。我們下個月再開會。",
}

FRESNO_AGENDA = {
    "en": "1. Welcome\n2. Health equity report for Fresno County\n3. Your questions for the plan",
    "es": "1. Bienvenida\n2. Informe de equidad en salud del condado de Fresno\n3. Sus preguntas para el plan",
}

SUPPORTS = {
    "childcare": True,
    "interpretation": ["spanish", "cantonese"],
    "transport": True,
    "meals": True,
}


def _demo_meetings(plan: Plan, now) -> None:
    """Past meetings with minutes and attendance, and coming ones: one full with a
    waiting list, one whose Chinese agenda is missing, one cancelled. Made once."""
    from datetime import time
    from decimal import Decimal

    from engage.meetings import documents, replies, schedule
    from engage.models import (
        Attendance,
        DocumentKind,
        Meeting,
        MeetingFormat,
        MeetingReply,
        ReplyChannel,
        ReplyStatus,
    )

    children = db.session.scalar(sa.select(Committee).where(Committee.slug == COMMITTEES[0]["slug"]))
    fresno = db.session.scalar(sa.select(Committee).where(Committee.slug == COMMITTEES[1]["slug"]))
    if db.session.scalar(sa.select(Meeting.id).where(Meeting.committee_id.in_([children.id, fresno.id])).limit(1)):
        return
    coordinator = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == STAFF[1][1]))
    members = {
        m.display_name: m
        for m in db.session.scalars(sa.select(Member).where(Member.plan_id == plan.id, Member.deleted_at.is_(None)))
    }
    today = now.astimezone(schedule.zone()).date()

    def meeting(committee, days: int, **fields):
        starts = schedule.local_to_utc(today + timedelta(days=days), time(18, 0))
        values = {"duration_minutes": 90, "format": MeetingFormat.IN_PERSON, **DEMO_PLACE, **SUPPORTS}
        values.update(fields)
        m = schedule.create_meeting(committee, starts, values)
        db.session.flush()
        return m

    def post(m, kind, texts: dict, at):
        for locale, body in texts.items():
            doc = documents.save(m, kind, locale, body, post=True, by=coordinator)
            doc.posted_at = at

    # Past meetings: minutes in three languages, who came, and what they had asked for.
    past = [
        (-125, AGENDA_FLYER, MINUTES_FLYER, ["Maria", "Mei Ling", "Tanya"]),
        (-35, AGENDA_WAIT_TIMES, MINUTES_WAIT_TIMES, ["Maria", "Wei", "Jasmine", "Guadalupe"]),
    ]
    earlier_needs = {"Maria": ["childcare", "interpreter"], "Wei": ["interpreter"], "Guadalupe": ["childcare"]}
    for days, agenda, minutes, came in past:
        m = meeting(children, days, stipend_amount=Decimal("50"))
        post(m, DocumentKind.AGENDA, agenda, m.starts_at - timedelta(days=9))
        post(m, DocumentKind.MINUTES, minutes, m.starts_at + timedelta(days=6))
        for name in came:
            member = members.get(name)
            if member is None:
                continue
            db.session.add(
                MeetingReply(
                    meeting_id=m.id,
                    member_id=member.id,
                    status=ReplyStatus.YES,
                    channel=ReplyChannel.SMS,
                    invited_at=m.starts_at - timedelta(days=14),
                    responded_at=m.starts_at - timedelta(days=12),
                    needs=earlier_needs.get(name, []),
                    needs_answered_at=m.starts_at - timedelta(days=12),
                )
            )
            db.session.add(Attendance(meeting_id=m.id, member_id=member.id, checked_in_at=m.starts_at))
        m.seats_taken = len([n for n in came if n in members])

    # Next meeting: four places, all agendas posted, a waiting list.
    full = meeting(children, 12, capacity=4, stipend_amount=Decimal("50"))
    post(full, DocumentKind.AGENDA, AGENDA_FULL, now - timedelta(days=2))
    answers = [
        ("Maria", True, ["childcare", "interpreter"]),
        ("Wei", True, ["interpreter"]),
        ("Jasmine", True, []),
        ("Guadalupe", True, ["childcare", "transport"]),
        ("Mei Ling", True, None),  # the meeting is full by now: waiting list
        ("Tanya", False, None),
    ]
    for name, yes, needs in answers:
        member = members.get(name)
        if member is None:
            continue
        row = replies.reply_for(full, member, by=coordinator, now=now - timedelta(days=3))
        replies.answer(
            row, yes, channel=ReplyChannel.SMS if name != "Jasmine" else ReplyChannel.WEB, notify_member=False
        )
        if needs is not None:
            replies.record_needs(row, needs)

    # The one after: online too, the Chinese agenda not written yet.
    later = meeting(
        children,
        40,
        format=MeetingFormat.HYBRID,
        online_url="https://meet.example.org/valle-central-familias",
        stipend_amount=Decimal("50"),
    )
    post(later, DocumentKind.AGENDA, AGENDA_NO_CHINESE, now - timedelta(days=1))
    for name in ("Maria", "Wei", "Jasmine"):
        if name in members:
            replies.reply_for(later, members[name], by=coordinator, now=now - timedelta(days=1))

    cancelled = meeting(children, 26)
    replies.cancel(cancelled, reason=CANCEL_REASON, by=coordinator, now=now - timedelta(days=1))

    county = meeting(fresno, 20, interpretation=["spanish"], transport=False, meals=False, childcare=True)
    post(county, DocumentKind.AGENDA, FRESNO_AGENDA, now - timedelta(days=1))
    db.session.flush()


# Input to decision: what parents said, grouped into themes at every step, in the words
# and language they used.
DEMO_INPUT = [
    # (member, language, topic, channel, days ago, words, theme key)
    (
        "Maria",
        "es",
        "care",
        "sms",
        80,
        "La clínica cierra a las 5. Salgo del trabajo a las 5:30 y no alcanzo a llevar a mis hijos.",
        "hours",
    ),
    ("Guadalupe", "es", "care", "web", 75, "Necesitamos citas en la tarde o los sábados.", "hours"),
    ("Tanya", "en", "care", "meeting", 70, "Evening appointments would help working parents a lot.", "hours"),
    ("Wei", "zh_Hant", "culture", "web", 60, "保險公司寄來的信都是英文的，我看不懂。", "letters"),
    ("Mei Ling", "zh_Hant", "culture", "cbo", 58, "希望有中文的預約提醒。", "letters"),
    ("Jasmine", "en", "quality", "web", 40, "It took four months to get a dentist appointment for my son.", "dental"),
    ("Maria", "es", "quality", "sms", 38, "Mi hija espera una cita con el dentista desde marzo.", "dental"),
    ("Guadalupe", "es", "equity", "web", 30, "Un pase de autobús gratis para ir a las citas médicas.", "bus"),
    (
        "Tanya",
        "en",
        "population",
        "web",
        6,
        "My teenager needs someone to talk to. Where can we find mental health help?",
        None,
    ),
]
DEMO_THEMES = {
    "hours": {
        "title": {
            "en": "Clinic hours after work",
            "es": "Horario de clínica después del trabajo",
            "zh_Hant": "下班後的診所時間",
        },
        "topic": "care",
        "steps": [("taken", "qihec", 55), ("decided", "adopted", 20)],
        "reason": {
            "en": "Two clinics in Fresno will open until 8 pm on Tuesdays and Thursdays from February.",
            "es": "Dos clínicas de Fresno abrirán hasta las 8 p. m. los martes y jueves a partir de febrero.",
            "zh_Hant": "從二月起，弗雷斯諾有兩家診所每週二和週四開到晚上八點。",
        },
    },
    "letters": {
        "title": {"en": "Letters in Chinese", "es": "Cartas en chino", "zh_Hant": "中文信件"},
        "topic": "culture",
        "steps": [("taken", "program", 45), ("decided", "partly", 15)],
        "reason": {
            "en": "Appointment reminders will come in Chinese. Benefit letters need a state change first.",
            "es": "Los recordatorios de citas llegarán en chino. Las cartas de beneficios necesitan primero un cambio del estado.",
            "zh_Hant": "預約提醒將提供中文版本。福利信件需要州政府先修改規定。",
        },
    },
    "dental": {
        "title": {
            "en": "Waiting months for the dentist",
            "es": "Meses de espera para el dentista",
            "zh_Hant": "看牙醫要等好幾個月",
        },
        "topic": "quality",
        "steps": [("taken", "qihec", 10)],
    },
    "bus": {
        "title": {
            "en": "Free bus passes to appointments",
            "es": "Pases de autobús gratis para las citas",
            "zh_Hant": "看診免費公車票",
        },
        "topic": "equity",
        "steps": [("taken", "board", 25), ("decided", "not_adopted", 8)],
        "reason": {
            "en": "The plan already pays for rides to appointments: call member services two days before.",
            "es": "El plan ya paga el transporte a las citas: llame a servicios para miembros dos días antes.",
            "zh_Hant": "健康計劃已經支付看診的交通接送：請在兩天前致電會員服務部。",
        },
    },
}


def _demo_supports_and_input(plan: Plan, now) -> None:
    """Supports arranged and provided, stipends paid and waiting, and input at every step
    from received to loop closed. Made once."""
    from decimal import Decimal

    from engage.feedback import decisions, triage
    from engage.models import (
        Attendance,
        DecisionBody,
        Input,
        InputChannel,
        LoopMessage,
        Meeting,
        Outcome,
        PaymentMethod,
        RequestedVia,
        Stipend,
        SupportKind,
        SupportRequest,
        Theme,
        ThemeStatus,
        Topic,
    )
    from engage.supports import services, stipends

    if db.session.scalar(sa.select(Theme.id).where(Theme.plan_id == plan.id).limit(1)):
        return
    coordinator = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == STAFF[1][1]))
    cbo_user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == STAFF[2][1]))
    members = {
        m.display_name: m
        for m in db.session.scalars(sa.select(Member).where(Member.plan_id == plan.id, Member.deleted_at.is_(None)))
    }
    children = db.session.scalar(sa.select(Committee).where(Committee.slug == COMMITTEES[0]["slug"]))
    children.stipend_amount = Decimal("50")
    children.stipend_prep_amount = Decimal("25")
    children.stipend_methods = [
        PaymentMethod.GIFT_CARD.value,
        PaymentMethod.PREPAID_CARD.value,
        PaymentMethod.CHECK.value,
    ]
    if "Maria" in members:
        members["Maria"].benefit_quarterly_limit = Decimal("60")
        members["Maria"].benefits_note = "SSI"

    # Supports: the next meeting's are partly arranged; past ones were provided.
    meetings = list(
        db.session.scalars(sa.select(Meeting).where(Meeting.committee_id == children.id).order_by(Meeting.starts_at))
    )
    past = [m for m in meetings if m.starts_at < now]
    coming = [m for m in meetings if m.starts_at >= now and not m.is_cancelled]
    for meeting in past:
        for reply_member_id in db.session.scalars(
            sa.select(Attendance.member_id).where(Attendance.meeting_id == meeting.id)
        ):
            member = db.session.get(Member, reply_member_id)
            for kind in ("childcare", "interpreter"):
                if (member.needs or {}).get(kind):
                    row = services.request(
                        meeting,
                        member,
                        SupportKind(kind),
                        services.default_details(member, SupportKind(kind)),
                        via=RequestedVia.SMS,
                        now=meeting.starts_at - timedelta(days=12),
                    )
                    db.session.flush()
                    services.arrange(
                        row,
                        "Centro Comunitario childcare room" if kind == "childcare" else "Booked through LanguageLine",
                        by=coordinator,
                        now=meeting.starts_at - timedelta(days=5),
                        notify=False,
                    )
                    services.record_outcome(row, True, now=meeting.starts_at + timedelta(hours=2))
    if coming:
        upcoming = coming[0]
        for row in db.session.scalars(sa.select(SupportRequest).where(SupportRequest.meeting_id == upcoming.id)):
            if row.kind == SupportKind.CHILDCARE and row.member.display_name == "Maria":
                services.arrange(row, "Centro Comunitario childcare room, 2 sitters", by=coordinator, notify=False)
    # Stipends: the older meeting paid, the recent one waiting for approval.
    for i, meeting in enumerate(past):
        stipends.make_eligible(meeting)
        db.session.flush()
        if i == 0:
            for stipend in db.session.scalars(sa.select(Stipend).where(Stipend.meeting_id == meeting.id)):
                stipends.approve(stipend, by=coordinator, now=meeting.starts_at + timedelta(days=2))
                db.session.flush()
                stipends.pay(
                    stipend,
                    method=PaymentMethod.GIFT_CARD,
                    reference=f"GC-{1000 + stipend.id}",
                    paid_on=meeting.starts_at + timedelta(days=9),
                    by=coordinator,
                    notify=False,
                )

    # Input, themes, decisions; every step on the timeline, the texts delivered.
    themes = {}
    for key, spec in DEMO_THEMES.items():
        themes[key] = triage.create(
            plan.id,
            spec["title"],
            topic=Topic(spec["topic"]),
            committee_id=children.id,
            owner=coordinator,
            by=coordinator,
        )
    db.session.flush()
    for name, locale, topic, channel, days, words, key in DEMO_INPUT:
        member = members.get(name)
        if member is None:
            continue
        row = Input(
            plan_id=plan.id,
            committee_id=children.id,
            topic=Topic(topic),
            channel=InputChannel(channel),
            body=words,
            locale=locale,
            organisation_id=member.organisation_id if channel == "cbo" else None,
            recorded_by_id=cbo_user.id if channel == "cbo" and cbo_user else None,
            received_at=now - timedelta(days=days),
        )
        row.people = [member]
        db.session.add(row)
        if key:
            row.theme = themes[key]
    db.session.flush()
    for key, spec in DEMO_THEMES.items():
        theme = themes[key]
        theme.created_at = now - timedelta(days=85)
        for step, what, days_ago in spec["steps"]:
            day = (now - timedelta(days=days_ago)).date()
            if step == "taken":
                triage.take(theme, DecisionBody(what), day, by=coordinator)
            else:
                triage.decide(theme, Outcome(what), spec["reason"], day, by=coordinator)
        # Date each timeline entry on its own step, as if it had been done on that day.
        step_days = {"taken": None, "decided": None}
        for step, _what, days_ago in spec["steps"]:
            step_days[step] = days_ago
        for event in theme.events:
            if event.status == ThemeStatus.TAKEN and step_days["taken"] is not None:
                event.at = now - timedelta(days=step_days["taken"])
            elif event.status == ThemeStatus.DECIDED and step_days["decided"] is not None:
                event.at = now - timedelta(days=step_days["decided"])
            else:
                event.at = now - timedelta(days=84)
    db.session.flush()
    # The older texts were delivered (the status callbacks came back).
    for message in db.session.scalars(sa.select(LoopMessage).where(LoopMessage.outbox_id.is_not(None))):
        if message.theme_id != themes["bus"].id:
            message.delivered_at = now - timedelta(days=5)
    db.session.flush()
    from engage.feedback import loop

    for theme in themes.values():
        if loop.maybe_close(theme):
            theme.closed_at = now - timedelta(days=5)  # when the last text was delivered
            theme.events[-1].at = theme.closed_at
    decisions.save(
        plan.id,
        body=DecisionBody.QIHEC,
        decided_on=(now - timedelta(days=20)).date(),
        title={"en": "Evening clinic hours", "es": "Horario de clínica en la tarde", "zh_Hant": "診所晚間時段"},
        summary={
            "en": "Two clinics open until 8 pm on Tuesdays and Thursdays.",
            "es": "Dos clínicas abren hasta las 8 p. m. los martes y jueves.",
            "zh_Hant": "兩家診所每週二和週四開到晚上八點。",
        },
        rationale={
            "en": "Parents told us clinic hours clash with work.",
            "es": "Los padres nos dijeron que el horario de la clínica choca con el trabajo.",
            "zh_Hant": "家長告訴我們診所時間和工作時間衝突。",
        },
        theme_ids=[themes["hours"].id],
        by=coordinator,
    )
    db.session.flush()
