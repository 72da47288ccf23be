"""Words for input, themes and decisions, translated."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from engage.models import DecisionBody, InputChannel, Outcome, ThemeStatus, Topic

TOPICS = {
    Topic.NEEDS_ASSESSMENT: _l("What families in our area need (needs assessment)"),
    Topic.HEALTH_EQUITY: _l("Fair care for every family (health equity)"),
    Topic.QUALITY: _l("Quality of care"),
    Topic.LANGUAGE_CULTURE: _l("Materials and services in my language and culture"),
    Topic.SATISFACTION: _l("How happy families are with the plan"),
    Topic.CARE_COORDINATION: _l("Getting care from different places to work together"),
    Topic.HEALTH_EDUCATION: _l("Health classes and information"),
    Topic.POPULATION_HEALTH: _l("Keeping our community healthy"),
    Topic.OTHER: _l("Something else"),
}

CHANNELS = {
    InputChannel.WEB: _l("Website"),
    InputChannel.SMS: _l("Text message"),
    InputChannel.MEETING: _l("In a meeting"),
    InputChannel.CBO: _l("Through a community organization"),
}

STATUSES = {
    ThemeStatus.RECEIVED: _l("Received"),
    ThemeStatus.UNDER_REVIEW: _l("Under review"),
    ThemeStatus.TAKEN: _l("Taken to decision-makers"),
    ThemeStatus.DECIDED: _l("Decided"),
    ThemeStatus.CLOSED: _l("Decided, and everyone was told"),
}

OUTCOMES = {
    Outcome.ADOPTED: _l("Adopted"),
    Outcome.PARTLY: _l("Partly adopted"),
    Outcome.NOT_ADOPTED: _l("Not adopted"),
    Outcome.DEFERRED: _l("Put off until later"),
}
OUTCOMES_SHORT = OUTCOMES

BODIES = {
    DecisionBody.BOARD: _l("the plan's board of directors"),
    DecisionBody.QIHEC: _l("the Quality Improvement and Health Equity Committee"),
    DecisionBody.NEEDS_ASSESSMENT: _l("the needs assessment team"),
    DecisionBody.PROGRAM: _l("the team that runs the program or writes the materials"),
    DecisionBody.OTHER: _l("the plan's leaders"),
}

BODIES_SHORT = {
    DecisionBody.BOARD: _l("plan's board"),
    DecisionBody.QIHEC: _l("quality and equity committee"),
    DecisionBody.NEEDS_ASSESSMENT: _l("needs assessment team"),
    DecisionBody.PROGRAM: _l("program team"),
    DecisionBody.OTHER: _l("plan's leaders"),
}
