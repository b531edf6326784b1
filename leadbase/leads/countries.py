"""Country names to ISO 3166-1 alpha-2 codes.

Leads store a country as its two-letter code. Forms, webhooks and imported lists often carry a
name instead ("Germany", "Deutschland", "United States of America", "UK") or a three-letter code
("DEU"). `country_code_for` reads those, from the ISO 3166 data and its translations shipped with
pycountry, plus a short list of everyday names the standard does not use.

Matching ignores case, accents, punctuation and spacing ("cote d'ivoire" = "Côte d'Ivoire").
English names win over translations; a translated name that means two different countries in two
languages is not used. The table is built on first use (a few milliseconds) and then kept.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from collections.abc import Iterable
from functools import cache

import pycountry

# Languages whose country names are accepted, besides English (pycountry's gettext catalogues).
LANGUAGES = (
    "de", "fr", "es", "it", "nl", "pt", "pt_BR", "pl", "sv", "da", "nb_NO", "fi", "cs", "ro",
    "hu", "el", "tr", "ru", "uk", "ja", "zh_CN", "ko",
)  # fmt: skip

# Everyday names and abbreviations that are not in the ISO data.
ALIASES: dict[str, str] = {
    "uk": "GB",
    "u.k.": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "usa": "US",
    "u.s.a.": "US",
    "u.s.": "US",
    "us": "US",
    "america": "US",
    "united states": "US",
    "russia": "RU",
    "ivory coast": "CI",
    "holland": "NL",
    "the netherlands": "NL",
    "uae": "AE",
    "turkey": "TR",
    "czech republic": "CZ",
    "south korea": "KR",
    "north korea": "KP",
    "iran": "IR",
    "syria": "SY",
    "laos": "LA",
    "vatican": "VA",
    "macedonia": "MK",
    "swaziland": "SZ",
    "burma": "MM",
    "cape verde": "CV",
    "east timor": "TL",
    "palestine": "PS",
    "kosovo": "XK",
    "eire": "IE",
    "россия": "RU",
}

_DROP = re.compile(r"[\W_]+")


def fold(name: str) -> str:
    """The matching key of a name: accents removed, case folded, only letters and digits kept."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _DROP.sub("", bare.casefold())


def _english_names() -> Iterable[tuple[str, str]]:
    for country in pycountry.countries:
        code = country.alpha_2
        yield country.alpha_3, code
        yield country.name, code
        for attribute in ("official_name", "common_name"):
            value = getattr(country, attribute, None)
            if value:
                yield value, code


@cache
def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for name, code in _english_names():
        table.setdefault(fold(name), code)
    translated: dict[str, str | None] = {}
    for language in LANGUAGES:
        try:
            catalogue = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, [language])
        except OSError:  # a catalogue missing from this pycountry release
            continue
        for country in pycountry.countries:
            for english in {country.name, getattr(country, "common_name", None) or country.name}:
                key = fold(catalogue.gettext(english))
                if not key or key in table:
                    continue
                seen = translated.get(key, country.alpha_2)
                translated[key] = country.alpha_2 if seen == country.alpha_2 else None
    table.update({key: code for key, code in translated.items() if code is not None})
    table.update({fold(alias): code for alias, code in ALIASES.items()})
    return table


def country_code_for(value: str) -> str | None:
    """The alpha-2 code of a country code or name in any of the known languages, or None."""
    key = fold(value)
    if not key:
        return None
    found = _table().get(key)
    if found is None and len(key) == 2 and key.isascii() and key.isalpha():
        return key.upper()
    return found
