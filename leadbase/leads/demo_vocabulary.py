"""What the demo data is made of (no Django here): word lists, weights, and drawing from them.

The raw word lists (places, names by culture, industries, company name parts, job titles,
pages, content, campaigns, staff, weights...) are in `demo_vocabulary.toml` beside this module,
read once at import. Here they become small typed tables, and helpers draw names, roles,
company names, domains, email addresses, phone numbers and landing pages from them, for
`leadbase.leads.demo_generator` and `leadbase.leads.demo_simulation`.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import random
import tomllib
import unicodedata
from array import array
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Any, NamedTuple, Protocol

import phonenumbers

DAY = 86_400.0
SITE = "https://www.brightwave.example"  # the fictional business whose leads these are
STAFF_DOMAIN = "brightwave.example"
EMEA = frozenset({"GB", "DE", "FR", "NL", "ES", "IT", "SE", "PL", "CH", "IE"})

type Properties = dict[str, str | int]


# --- small helpers --------------------------------------------------------------------------


class Weighted[T]:
    """Items with weights; `pick` costs one random() and one bisect."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.items: list[T] = []
        self.cum: list[float] = []
        total = 0.0
        for item, weight in pairs:
            if weight > 0:
                total += weight
                self.items.append(item)
                self.cum.append(total)
        if not self.items:
            raise ValueError("no item has a positive weight")
        self.total = total

    def pick(self, r: random.Random) -> T:
        return self.items[bisect.bisect_right(self.cum, r.random() * self.total)]


def rng(seed: int, stream: str) -> random.Random:
    # Seeded pseudo-random demo data, not secrets: `secrets` could not reproduce it.
    return random.Random(f"leadbase-demo:{seed}:{stream}")  # noqa: S311


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


_TRANSLIT = str.maketrans(
    {"ß": "ss", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "đ": "d",
     "\u0131": "i"}
)  # fmt: skip


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits only: 'Łukasz' -> 'lukasz', "O'Brien" -> 'obrien'."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


class Name(NamedTuple):
    display: str
    ascii: str


def _names(items: Iterable[str]) -> tuple[Name, ...]:
    """['José', 'Zoë', '伟=wei']: display names, with an ASCII form for addresses after '='."""
    out = []
    for item in items:
        display, _, plain = item.partition("=")
        out.append(Name(display, plain or ascii_slug(display)))
    return tuple(out)


class HashSet:
    """A compact set of 64-bit digests (8 bytes a slot), to keep emails unique without
    holding a million strings: open addressing over an array, sized for `capacity`."""

    def __init__(self, capacity: int) -> None:
        size = 1 << max(4, (2 * capacity + 16).bit_length())
        self._mask = size - 1
        self._slots = array("Q", bytes(8 * size))
        self._used = 0

    def add(self, text: str) -> bool:
        """Add `text`; False if it was already there."""
        key = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest()) | 1
        slots, mask = self._slots, self._mask
        i = key & mask
        while True:
            current = slots[i]
            if current == 0:
                if self._used * 4 >= mask * 3:
                    raise OverflowError("demo email table is full")
                slots[i] = key
                self._used += 1
                return True
            if current == key:
                return False
            i = (i + 1) & mask


# --- reference data (word lists from demo_vocabulary.toml) ----------------------------------


def _load() -> dict[str, Any]:
    data = resources.files("leadbase.leads").joinpath("demo_vocabulary.toml")
    with data.open("rb") as f:
        return tomllib.load(f)


_DATA = _load()
# Values of leadbase.leads.models.Channel and of event types (plain strings: no Django here;
# tests check these against the model choices), and the free-mail domains used.
CHANNELS: tuple[str, ...] = tuple(_DATA["model_values"]["channels"])
EVENT_TYPES: tuple[str, ...] = tuple(_DATA["model_values"]["event_types"])
PERSONAL_EMAIL_DOMAINS: tuple[str, ...] = tuple(_DATA["model_values"]["personal_email_domains"])
POINTS: dict[str, int] = _DATA["points"]  # what each event is worth (MQL threshold, temperature)


class Country(NamedTuple):
    code: str
    weight: float
    culture: str
    places: tuple[tuple[str, tuple[str, ...]], ...]  # (region, cities)
    legal: tuple[str, ...]
    fit: float
    territory: int  # index of the sales rep (see STAFF)


COUNTRIES: tuple[Country, ...] = tuple(
    Country(
        code,
        c["weight"],
        c["culture"],
        tuple((region, tuple(cities)) for region, cities in c["places"].items()),
        tuple(c["legal"]),
        c["fit"],
        c["territory"],
    )
    for code, c in _DATA["countries"].items()
)
COUNTRY = {c.code: c for c in COUNTRIES}
COUNTRY_PICK = Weighted([(c, c.weight) for c in COUNTRIES])

FIRST_NAMES: dict[str, tuple[Name, ...]] = {
    culture: _names(names) for culture, names in _DATA["first_names"].items()
}
LAST_NAMES: dict[str, tuple[Name, ...]] = {
    culture: _names(names) for culture, names in _DATA["last_names"].items()
}
# People do not all have their country's most common names: this share is drawn from here.
DIASPORA: Weighted[str] = Weighted(list(_DATA["diaspora"].items()))
JUNK_FIRST = _names(_DATA["junk_names"]["first"])
JUNK_LAST = _names(_DATA["junk_names"]["last"])


class Industry(NamedTuple):
    weight: float
    revenue_per_employee: float  # USD
    fit: float
    size_shift: float  # added to the log of the median employee count
    words: tuple[str, ...]


INDUSTRIES: dict[str, Industry] = {
    name: Industry(i["weight"], i["revenue_per_employee"], i["fit"], i["size_shift"],
                   tuple(i["words"]))
    for name, i in _DATA["industries"].items()
}  # fmt: skip
INDUSTRY_PICK = Weighted([(name, ind.weight) for name, ind in INDUSTRIES.items()])

_PREFIXES: tuple[str, ...] = tuple(_DATA["company_names"]["prefixes"])
_SUFFIXES: tuple[str, ...] = tuple(_DATA["company_names"]["suffixes"])
_ROOTS: tuple[str, ...] = tuple(_DATA["company_names"]["roots"])
EMAIL_PATTERNS: Weighted[str] = Weighted(list(_DATA["email_patterns"].items()))

# Department -> seniority -> job titles (see demo_vocabulary.toml).
_TITLES: dict[str, dict[str, tuple[str, ...]]] = {
    department: {seniority: tuple(titles) for seniority, titles in by_seniority.items()}
    for department, by_seniority in _DATA["titles"].items()
}
_EXECUTIVE: dict[str, tuple[str, ...]] = {
    seniority: tuple(titles) for seniority, titles in _DATA["executive_titles"].items()
}
_DEPARTMENTS: Weighted[str] = Weighted(list(_DATA["departments"].items()))
_SENIORITY_BY_SIZE: tuple[tuple[int, Weighted[str]], ...] = tuple(
    (size["max_employees"], Weighted(list(size["weights"].items())))
    for size in _DATA["seniority_by_company_size"]
)

# How each observable trait moves the latent propensity (logit scale), and how the leads of an
# average day spread over the always-on channels.
_FIT_SENIORITY: dict[str, float] = _DATA["fit"]["seniority"]
_FIT_DEPARTMENT: dict[str, float] = _DATA["fit"]["department"]
_SIZE_FIT: list[dict[str, float]] = _DATA["fit"]["company_size"]
CHANNEL_EFFECT: dict[str, float] = _DATA["fit"]["channel"]
CHANNEL_WEIGHT: dict[str, int] = _DATA["channel_weights"]


def _size_fit(employees: int) -> float:
    return next(s["fit"] for s in _SIZE_FIT if employees < s.get("below", math.inf))


FORM_ANSWERS: dict[str, list[str]] = _DATA["form_answers"]  # what demo/contact/trial forms ask
_MARKETING = _DATA["marketing"]
PAGES: Weighted[tuple[str, str]] = Weighted(
    [((path, title), weight) for path, title, weight in _MARKETING["pages"]]
)
CAREERS = ("/careers", "Careers")
CONTENT: tuple[tuple[str, str, str], ...] = tuple(
    (title, fmt, path) for title, fmt, path in _MARKETING["content"]
)
NURTURE: tuple[str, ...] = tuple(_MARKETING["nurture_emails"])
MONTHS: tuple[str, ...] = tuple(_MARKETING["months"])
LOSS_REASONS: tuple[str, ...] = tuple(_DATA["reasons"]["loss"])
DISQUALIFY_REASONS: tuple[str, ...] = tuple(_DATA["reasons"]["disqualify"])
ACCEPT_REASONS: tuple[str, ...] = tuple(_DATA["reasons"]["accept"])
PLANS = (("Team", 5, 20), ("Business", 15, 80), ("Enterprise", 60, 400))


class CampaignSpec(NamedTuple):
    name: str
    channel: str
    source: str
    medium: str
    slug: str
    terms: tuple[str, ...]
    contents: tuple[str, ...]
    start_day: int  # from the start of the window (negative: already running)
    length_days: int | None  # None: always on
    cost: float  # per 30 days when always on, else in total
    share: float  # weight within its channel (always-on channels)
    boost: float  # extra leads a day, as a multiple of an average day (event-driven)
    kind: str  # how its leads are created


CAMPAIGN_SPECS: tuple[CampaignSpec, ...] = tuple(
    CampaignSpec(**{"length_days": None, **c, "terms": tuple(c.get("terms", ())),
                    "contents": tuple(c.get("contents", ()))})
    for c in _DATA["campaigns"]
)  # fmt: skip

# The Leadbase users (username, first_name, last_name, role, territory): sales reps, whose
# index is a country's `territory`, and the marketer who imports lists and cleans up.
STAFF: tuple[dict[str, str], ...] = tuple(_DATA["staff"])
MARKETER = next(i for i, user in enumerate(STAFF) if user["role"] == "marketer")

_FORM_LABELS: dict[str, str] = {
    form: f["label"] for form, f in _DATA["forms"].items() if "label" in f
}
_FORM_PAGES: dict[str, str] = {form: f["path"] for form, f in _DATA["forms"].items()}
_SEARCH_REFERRERS: Weighted[str] = Weighted(list(_DATA["search_referrers"].items()))
_FREE_MAIL: Weighted[str] = Weighted(list(_DATA["free_mail"]["shares"].items()))
_NATIONAL_FREE_MAIL: dict[str, tuple[str, ...]] = {
    country: tuple(domains) for country, domains in _DATA["free_mail"]["national"].items()
}
# US and Canadian numbers stay inside the fictional 555-01XX range.
_NANP_AREAS: dict[str, tuple[int, ...]] = {
    country: tuple(areas) for country, areas in _DATA["nanp_area_codes"].items()
}


# --- drawing from it ------------------------------------------------------------------------


class Company(Protocol):
    """What is read here of a lead's company (a demo_generator.DemoCompany)."""

    @property
    def employee_count(self) -> int: ...

    @property
    def industry(self) -> str: ...


def fit(
    seniority: str,
    department: str,
    company: Company | None,
    personal: bool,
    country: Country,
    persona: str,
) -> float:
    """What sales would see as a lead's fit: the observable part of its latent propensity."""
    return (
        _FIT_SENIORITY[seniority]
        + _FIT_DEPARTMENT.get(department, -0.3)
        + (
            _size_fit(company.employee_count) + INDUSTRIES[company.industry].fit
            if company
            else -0.7
        )
        + (-0.5 if personal else 0.0)
        + country.fit
        + {"buyer": 0.0, "student": -3.0, "job_seeker": -3.0, "junk": -5.0}[persona]
    )


def person_name(r: random.Random, culture: str, persona: str) -> tuple[Name, Name]:
    """(first, last) name of someone living where `culture`'s names are the most common."""
    culture = culture if r.random() < 0.85 else DIASPORA.pick(r)
    if persona == "junk":
        return r.choice(JUNK_FIRST), r.choice(JUNK_LAST)
    first, last = r.choice(FIRST_NAMES[culture]), r.choice(LAST_NAMES[culture])
    mixed = first.display.isascii() != last.display.isascii()
    if culture in ("zh", "ja") and (
        mixed or r.random() < 0.6
    ):  # most CJK names are entered romanised, and never half and half
        first = Name(first.ascii.capitalize(), first.ascii)
        last = Name(last.ascii.capitalize(), last.ascii)
    return first, last


def company_name(
    r: random.Random, country: Country, industry: str, city: str
) -> tuple[str, list[str]]:
    """A company name, and the slugs its domain may take (best first)."""
    words = INDUSTRIES[industry].words
    if industry == "government":
        name = f"{city} {r.choice(words)}"
        return name, [ascii_slug(name)]
    roll = r.random()
    surnames = LAST_NAMES.get(country.culture, LAST_NAMES["en"])
    if roll < 0.45:
        core = r.choice(_PREFIXES) + r.choice(_SUFFIXES) if r.random() < 0.5 else (r.choice(_ROOTS))
        word = r.choice(words)
        name = f"{core} {word}"
        slugs = [ascii_slug(name), ascii_slug(core), f"{ascii_slug(core)}-{ascii_slug(word)}"]
    elif roll < 0.65:
        core = r.choice(_ROOTS)
        name = core
        slugs = [ascii_slug(core), f"{ascii_slug(core)}hq", f"get{ascii_slug(core)}"]
    elif roll < 0.88:
        surname = latin(r.choice(surnames))
        word = r.choice(words)
        name = f"{surname.display} {word}"
        slugs = [f"{surname.ascii}{ascii_slug(word)}", f"{surname.ascii}-{ascii_slug(word)}"]
    else:
        a, b = latin(r.choice(surnames)), latin(r.choice(surnames))
        name = f"{a.display} & {b.display}"
        slugs = [f"{a.ascii}{b.ascii}", f"{a.ascii}-{b.ascii}"]
    if r.random() < 0.55:
        name = f"{name} {r.choice(country.legal)}"
    return name, slugs


def unique_domain(r: random.Random, slugs: list[str], country: str, used: set[str]) -> str:
    """The first of `slugs` (or a variant) not yet in `used`, under .example; added to it."""
    slugs = [s for s in slugs if s] or ["company"]
    candidates = [*slugs, f"{slugs[0]}-{country.lower()}", f"{slugs[0]}-group"]
    for slug in candidates:
        domain = f"{slug[:50]}.example"
        if domain not in used:
            used.add(domain)
            return domain
    n = 2
    while f"{slugs[0][:45]}{n}.example" in used:
        n += r.randint(1, 9)
    domain = f"{slugs[0][:45]}{n}.example"
    used.add(domain)
    return domain


def role(
    r: random.Random, persona: str, company: Company | None, kind: str
) -> tuple[str, str, str]:
    """(seniority, department, job title) of a lead at `company`."""
    if persona == "student":
        return "entry", "", "Student"
    if persona == "junk":
        return "", "", ""
    if persona == "job_seeker":
        department = _DEPARTMENTS.pick(r)
        seniority = "entry" if r.random() < 0.7 else "senior"
        return seniority, department, r.choice(_TITLES[department][seniority])
    employees = company.employee_count if company else 5
    table = next(w for limit, w in _SENIORITY_BY_SIZE if employees <= limit)
    seniority = table.pick(r)
    if kind == "list" and seniority in ("entry", "senior", ""):
        seniority = "director"
    if seniority == "owner" or (seniority == "c_level" and r.random() < 0.4):
        return seniority, "Executive", r.choice(_EXECUTIVE[seniority])
    department = _DEPARTMENTS.pick(r)
    if seniority == "" and r.random() < 0.4:
        return "", "", ""  # no title given
    return seniority, department, r.choice(_TITLES[department][seniority])


def email_address(
    r: random.Random,
    taken: HashSet,
    first: Name,
    last: Name,
    work: tuple[str, str] | None,
    country: str,
    persona: str,
) -> str:
    """An address not in `taken` (added to it): at `work` (the company's domain and address
    pattern), else a free-mail one."""
    personal = work is None
    f, la = first.ascii or "x", last.ascii or "x"
    if work is None:
        domain = personal_domain(r, country)
        if persona == "junk":
            local = r.choice(("test", "asdf", "aaa", "noreply", "xx", "abc"))
            local += str(r.randint(1, 999))
        else:
            style = r.random()
            if style < 0.4:
                local = f"{f}.{la}"
            elif style < 0.65:
                local = f"{f}{la}{r.randint(1, 99)}"
            elif style < 0.8:
                local = f"{f}_{la}"
            else:
                local = f"{f[0]}.{la}{r.randint(70, 99)}"
    else:
        domain, pattern = work
        local = {
            "first.last": f"{f}.{la}",
            "flast": f"{f[0]}{la}",
            "first": f,
            "firstl": f"{f}{la[0]}",
            "first_last": f"{f}_{la}",
            "last.first": f"{la}.{f}",
            "f.last": f"{f[0]}.{la}",
        }[pattern]
    local = local[:60]
    candidate = f"{local}@{domain}"
    n = 2
    while not taken.add(candidate):
        # Colleagues with the same name get john.smith2; free-mail users pick numbers.
        candidate = f"{local}{n}@{domain}"
        n += r.randint(1, 40) if personal else 1
    return candidate


def lead_source(kind: str, form: str, name: str) -> tuple[str, str]:
    """(source, source detail) of a lead created by `form` for the campaign called `name`."""
    if kind == "badges":
        return "import", f"Badge scans: {name}"
    if kind == "list":
        return "import", "CSV import: emea-saas-decision-makers.csv"
    if kind == "partner":
        return "partner_api", f"Partner portal: {name}"
    if kind == "lead_gen":
        return "linkedin_lead_gen", "LinkedIn lead gen form: The lead scoring playbook"
    if kind == "webinar":
        return "web_form", f"Webinar registration: {name.removeprefix('Webinar: ')}"
    if kind == "referral":
        return "web_form", "Referral form"
    return "web_form", _FORM_LABELS[form]


def landing_urls(
    r: random.Random,
    channel: str,
    kind: str,
    form: str,
    utm: tuple[str, str, str, str, str],
) -> tuple[str, str]:
    """(landing page, referrer) of a lead created by `form`, with its UTM values."""
    if kind in ("badges", "list", "partner"):
        return "", ""
    path = _FORM_PAGES[form]
    if not path:
        return "", "https://www.linkedin.com/"
    query = "&".join(
        f"{k}={v.replace(' ', '+')}"
        for k, v in zip(
            ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"),
            utm,
            strict=True,
        )
        if v
    )
    landing = f"{SITE}{path}" + (f"?{query}" if query else "")
    referrer = ""
    if channel in ("organic_search", "paid_search"):
        referrer = _SEARCH_REFERRERS.pick(r)
        if utm[0] == "bing":
            referrer = "https://www.bing.com/"
    elif channel in ("paid_social", "organic_social"):
        referrer = (
            "https://www.facebook.com/" if utm[0] == "facebook" else ("https://www.linkedin.com/")
        )
    elif channel == "referral" and utm[0] == "g2":
        referrer = "https://www.g2.com/products/brightwave/reviews"
    return landing, referrer


def latin(name: Name) -> Name:
    """The name in Latin letters (CJK names romanised), for company names."""
    if all(ord(c) < 0x250 for c in name.display):
        return name
    return Name(name.ascii.capitalize(), name.ascii)


def personal_domain(r: random.Random, country: str) -> str:
    local = _NATIONAL_FREE_MAIL.get(country, ())
    if local and r.random() < 0.35:
        return r.choice(local)
    return _FREE_MAIL.pick(r)


_PHONE_TEMPLATES: dict[tuple[str, int], tuple[int, str]] = {}


def phone_number(r: random.Random, country: str, region: str) -> str:
    """A number valid for `country` (libphonenumber's is_valid_number), in E.164."""
    if country in _NANP_AREAS:
        area = r.choice(_NANP_AREAS[country])
        return f"+1{area}55501{r.randint(0, 99):02d}"
    kind = 0 if r.random() < 0.55 else 1  # mobile, fixed line
    key = (country, kind)
    template = _PHONE_TEMPLATES.get(key)
    if template is None:
        kinds = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)
        example = phonenumbers.example_number_for_type(country, kinds[kind])
        if example is None:
            example = phonenumbers.example_number(country)
        assert example is not None and example.country_code is not None
        template = (example.country_code, phonenumbers.national_significant_number(example))
        _PHONE_TEMPLATES[key] = template
    code, nsn = template
    for _ in range(8):
        candidate = f"+{code}{nsn[:-4]}{r.randint(0, 9999):04d}"
        number = phonenumbers.parse(candidate)
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return f"+{code}{nsn}"
