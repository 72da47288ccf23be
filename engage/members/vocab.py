"""The answers a sign-up offers, with their translated labels. Codes are stored;
labels are shown. Keep codes stable: reports count them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

AGE_GROUPS = {
    "0-5": _l("Under 6 years old"),
    "6-12": _l("6 to 12 years old"),
    "13-17": _l("13 to 17 years old"),
    "18-20": _l("18 to 20 years old"),
}

PARTICIPATION = {
    "committee": _l("Be a member of a parent advisory group (it meets a few times a year)"),
    "feedback": _l("Share ideas now and then, by text or on this website"),
    "surveys": _l("Answer short surveys"),
}

NEEDS = {
    "childcare": _l("Childcare during meetings"),
    "interpreter": _l("An interpreter"),
    "transport": _l("Help with transport"),
}

# Spoken languages an interpreter can be booked for (BRIEF: say which Chinese).
INTERPRETER_LANGUAGES = {
    "spanish": lazy_pgettext("spoken language", "Spanish"),
    "cantonese": lazy_pgettext("spoken language", "Cantonese"),
    "mandarin": lazy_pgettext("spoken language", "Mandarin"),
    "vietnamese": lazy_pgettext("spoken language", "Vietnamese"),
    "tagalog": lazy_pgettext("spoken language", "Tagalog"),
    "korean": lazy_pgettext("spoken language", "Korean"),
    "mixteco": lazy_pgettext("spoken language", "Mixteco"),
    "zapoteco": lazy_pgettext("spoken language", "Zapoteco"),
    "triqui": lazy_pgettext("spoken language", "Triqui"),
    "asl": lazy_pgettext("spoken language", "American Sign Language (ASL)"),
    "other": lazy_pgettext("spoken language", "Another language"),
}

# California's 58 counties, stored by their English name. The names are proper
# nouns, translated where a language has its own name for the place.
COUNTIES = {
    "Alameda": lazy_pgettext("California county", "Alameda"),
    "Alpine": lazy_pgettext("California county", "Alpine"),
    "Amador": lazy_pgettext("California county", "Amador"),
    "Butte": lazy_pgettext("California county", "Butte"),
    "Calaveras": lazy_pgettext("California county", "Calaveras"),
    "Colusa": lazy_pgettext("California county", "Colusa"),
    "Contra Costa": lazy_pgettext("California county", "Contra Costa"),
    "Del Norte": lazy_pgettext("California county", "Del Norte"),
    "El Dorado": lazy_pgettext("California county", "El Dorado"),
    "Fresno": lazy_pgettext("California county", "Fresno"),
    "Glenn": lazy_pgettext("California county", "Glenn"),
    "Humboldt": lazy_pgettext("California county", "Humboldt"),
    "Imperial": lazy_pgettext("California county", "Imperial"),
    "Inyo": lazy_pgettext("California county", "Inyo"),
    "Kern": lazy_pgettext("California county", "Kern"),
    "Kings": lazy_pgettext("California county", "Kings"),
    "Lake": lazy_pgettext("California county", "Lake"),
    "Lassen": lazy_pgettext("California county", "Lassen"),
    "Los Angeles": lazy_pgettext("California county", "Los Angeles"),
    "Madera": lazy_pgettext("California county", "Madera"),
    "Marin": lazy_pgettext("California county", "Marin"),
    "Mariposa": lazy_pgettext("California county", "Mariposa"),
    "Mendocino": lazy_pgettext("California county", "Mendocino"),
    "Merced": lazy_pgettext("California county", "Merced"),
    "Modoc": lazy_pgettext("California county", "Modoc"),
    "Mono": lazy_pgettext("California county", "Mono"),
    "Monterey": lazy_pgettext("California county", "Monterey"),
    "Napa": lazy_pgettext("California county", "Napa"),
    "Nevada": lazy_pgettext("California county", "Nevada"),
    "Orange": lazy_pgettext("California county", "Orange"),
    "Placer": lazy_pgettext("California county", "Placer"),
    "Plumas": lazy_pgettext("California county", "Plumas"),
    "Riverside": lazy_pgettext("California county", "Riverside"),
    "Sacramento": lazy_pgettext("California county", "Sacramento"),
    "San Benito": lazy_pgettext("California county", "San Benito"),
    "San Bernardino": lazy_pgettext("California county", "San Bernardino"),
    "San Diego": lazy_pgettext("California county", "San Diego"),
    "San Francisco": lazy_pgettext("California county", "San Francisco"),
    "San Joaquin": lazy_pgettext("California county", "San Joaquin"),
    "San Luis Obispo": lazy_pgettext("California county", "San Luis Obispo"),
    "San Mateo": lazy_pgettext("California county", "San Mateo"),
    "Santa Barbara": lazy_pgettext("California county", "Santa Barbara"),
    "Santa Clara": lazy_pgettext("California county", "Santa Clara"),
    "Santa Cruz": lazy_pgettext("California county", "Santa Cruz"),
    "Shasta": lazy_pgettext("California county", "Shasta"),
    "Sierra": lazy_pgettext("California county", "Sierra"),
    "Siskiyou": lazy_pgettext("California county", "Siskiyou"),
    "Solano": lazy_pgettext("California county", "Solano"),
    "Sonoma": lazy_pgettext("California county", "Sonoma"),
    "Stanislaus": lazy_pgettext("California county", "Stanislaus"),
    "Sutter": lazy_pgettext("California county", "Sutter"),
    "Tehama": lazy_pgettext("California county", "Tehama"),
    "Trinity": lazy_pgettext("California county", "Trinity"),
    "Tulare": lazy_pgettext("California county", "Tulare"),
    "Tuolumne": lazy_pgettext("California county", "Tuolumne"),
    "Ventura": lazy_pgettext("California county", "Ventura"),
    "Yolo": lazy_pgettext("California county", "Yolo"),
    "Yuba": lazy_pgettext("California county", "Yuba"),
}
COUNTY_NAMES = list(COUNTIES)


def county_label(name: str) -> str:
    return str(COUNTIES[name]) if name in COUNTIES else name


# Race and ethnicity: the federal standard revised in 2024 (SPD 15), one "select all
# that apply" question with seven minimum categories and detailed groups; California
# asks for detailed Asian and Pacific Islander groups, so those lists are longer.
RACE_ETHNICITY = {
    "aian": (
        _l("American Indian or Alaska Native"),
        {
            "aian_tribe_ca": _l("A California tribe"),
            "aian_navajo": _l("Navajo Nation"),
            "aian_maya": _l("Maya"),
            "aian_mixteco": _l("Mixteco"),
            "aian_zapoteco": _l("Zapoteco"),
            "aian_alaska": _l("Alaska Native village or group"),
        },
    ),
    "asian": (
        _l("Asian"),
        {
            "asian_chinese": _l("Chinese"),
            "asian_taiwanese": _l("Taiwanese"),
            "asian_filipino": _l("Filipino"),
            "asian_vietnamese": _l("Vietnamese"),
            "asian_korean": _l("Korean"),
            "asian_japanese": _l("Japanese"),
            "asian_indian": _l("Asian Indian"),
            "asian_pakistani": _l("Pakistani"),
            "asian_bangladeshi": _l("Bangladeshi"),
            "asian_cambodian": _l("Cambodian"),
            "asian_hmong": _l("Hmong"),
            "asian_laotian": _l("Laotian"),
            "asian_thai": _l("Thai"),
            "asian_indonesian": _l("Indonesian"),
            "asian_malaysian": _l("Malaysian"),
            "asian_sri_lankan": _l("Sri Lankan"),
        },
    ),
    "black": (
        _l("Black or African American"),
        {
            "black_african_american": _l("African American"),
            "black_jamaican": _l("Jamaican"),
            "black_haitian": _l("Haitian"),
            "black_nigerian": _l("Nigerian"),
            "black_ethiopian": _l("Ethiopian"),
            "black_somali": _l("Somali"),
        },
    ),
    "hispanic": (
        _l("Hispanic or Latino"),
        {
            "hispanic_mexican": _l("Mexican"),
            "hispanic_salvadoran": _l("Salvadoran"),
            "hispanic_guatemalan": _l("Guatemalan"),
            "hispanic_honduran": _l("Honduran"),
            "hispanic_puerto_rican": _l("Puerto Rican"),
            "hispanic_cuban": _l("Cuban"),
            "hispanic_dominican": _l("Dominican"),
        },
    ),
    "mena": (
        _l("Middle Eastern or North African"),
        {
            "mena_lebanese": _l("Lebanese"),
            "mena_iranian": _l("Iranian"),
            "mena_egyptian": _l("Egyptian"),
            "mena_syrian": _l("Syrian"),
            "mena_iraqi": _l("Iraqi"),
            "mena_armenian": _l("Armenian"),
        },
    ),
    "nhpi": (
        _l("Native Hawaiian or Pacific Islander"),
        {
            "nhpi_native_hawaiian": _l("Native Hawaiian"),
            "nhpi_samoan": _l("Samoan"),
            "nhpi_chamorro": _l("Chamorro"),
            "nhpi_tongan": _l("Tongan"),
            "nhpi_fijian": _l("Fijian"),
            "nhpi_marshallese": _l("Marshallese"),
        },
    ),
    "white": (
        _l("White"),
        {
            "white_english": _l("English"),
            "white_german": _l("German"),
            "white_irish": _l("Irish"),
            "white_italian": _l("Italian"),
            "white_polish": _l("Polish"),
            "white_russian": _l("Russian"),
        },
    ),
}
RACE_DECLINE = "decline"

# The six HHS disability questions, as HHS words them.
DISABILITY_QUESTIONS = {
    "hearing": _l("Are you deaf, or do you have serious difficulty hearing?"),
    "vision": _l("Are you blind, or do you have serious difficulty seeing, even when wearing glasses?"),
    "cognition": _l(
        "Because of a physical, mental, or emotional condition, do you have serious difficulty "
        "concentrating, remembering, or making decisions?"
    ),
    "mobility": _l("Do you have serious difficulty walking or climbing stairs?"),
    "self_care": _l("Do you have difficulty dressing or bathing?"),
    "independent_living": _l(
        "Because of a physical, mental, or emotional condition, do you have difficulty doing errands "
        "alone such as visiting a doctor's office or shopping?"
    ),
}
DISABILITY_ANSWERS = {
    "yes": _l("Yes"),
    "no": _l("No"),
    "decline": _l("I prefer not to say"),
}


def all_race_codes() -> set[str]:
    codes = {RACE_DECLINE}
    for top, (_label, subgroups) in RACE_ETHNICITY.items():
        codes.add(top)
        codes.update(subgroups)
    return codes
