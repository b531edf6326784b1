"""Realistic, deterministic demo data: the pure, streaming generator (no Django here).

`DemoGenerator(leads=..., seed=..., now=...)` builds the small tables up front (`users`,
`campaigns`, `companies`: about leads/15 companies, at least 300) and streams the leads with
their events and transitions from `lead_chunks()`, a generator of lists, so a million leads
and ten million events never sit in memory together. The same arguments give the same data,
value for value: every draw comes from `random.Random` streams seeded from `seed` (string
seeds are hashed with SHA-512 by `random`, so PYTHONHASHSEED plays no part).

Outcomes follow fit and behaviour (docs/demo-data.md): a latent propensity
`z = fit + channel + hidden` (seniority, company size, industry, department, personal address,
country; referral/event/partner better, paid social and bought lists worse; plus unobserved
noise) drives how much a lead engages, and sales decisions use `z` plus what the lead actually
did (demo, trial and quote requests, pricing views raise it; unsubscribes, bounces, careers
pages lower it). A model trained on the stored fields and events finds real, imperfect signal.

`leadbase.leads.demo_data.load_demo_data` writes this into the database.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import math
import random
import unicodedata
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

import phonenumbers

DAY = 86_400.0
DEFAULT_DAYS = 270  # about nine months of history
MIN_COMPANIES = 300
LEADS_PER_COMPANY = 15
MQL_THRESHOLD = 80
# Logit offsets of the sales decisions (sigmoid(z + behaviour + offset)), tuned so that about
# 5-10% of leads become customers within the window.
ACCEPT_OFFSET = -1.5
OPPORTUNITY_OFFSET = -0.8
WIN_OFFSET = -2.0
SESSION_GAP_DAYS = 16.0
SITE = "https://www.brightwave.example"  # the fictional business whose leads these are
STAFF_DOMAIN = "brightwave.example"

# Values of leadbase.leads.models.Channel / LifecycleStage / Seniority / ... (plain strings:
# this module may not import Django; tests check these against the model choices).
CHANNELS = (
    "organic_search", "paid_search", "paid_social", "organic_social", "email", "referral",
    "direct", "event", "partner", "import",
)  # fmt: skip
EVENT_TYPES = (
    "lead_created", "page_view", "pricing_page_view", "content_download", "webinar_registered",
    "webinar_attended", "demo_request", "quote_request", "trial_signup", "form_submitted",
    "email_opened", "email_clicked", "unsubscribed", "email_bounced",
)  # fmt: skip
PERSONAL_EMAIL_DOMAINS = (
    "gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com", "proton.me",
    "gmx.de", "web.de", "t-online.de", "orange.fr", "free.fr", "laposte.net", "libero.it",
    "yahoo.co.uk", "btinternet.com", "uol.com.br", "bol.com.br", "wp.pl", "o2.pl",
    "rediffmail.com",
)  # fmt: skip

type Properties = dict[str, str | int]


# --- what the generator yields --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    email: str
    role: str  # leadbase.accounts.models.Role value
    territory: str


@dataclass(frozen=True, slots=True)
class DemoCompany:
    index: int
    name: str
    domain: str
    industry: str
    employee_count: int
    annual_revenue: Decimal | None
    country: str
    region: str
    city: str
    created_at: datetime
    email_pattern: str  # how its staff addresses look (generator detail, not stored)


@dataclass(frozen=True, slots=True)
class DemoCampaign:
    index: int
    name: str
    channel: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_term: str
    utm_content: str
    cost: Decimal
    starts_on: date
    ends_on: date | None
    created_at: datetime


class DemoEvent(NamedTuple):
    type: str
    occurred_at: datetime
    source: str
    properties: Properties


class DemoTransition(NamedTuple):
    kind: str  # stage | qualification | temperature | sales_status
    from_value: str
    to_value: str
    at: datetime
    reason: str
    actor: int | None  # index into DemoGenerator.users
    actor_label: str


@dataclass(frozen=True, slots=True)
class DemoLead:
    index: int
    created_at: datetime
    updated_at: datetime
    email: str
    phone: str
    first_name: str
    last_name: str
    job_title: str
    seniority: str
    department: str
    company: int | None  # index into DemoGenerator.companies
    country: str
    region: str
    city: str
    source: str  # what lead_upsert calls `source` (web_form, import, ...)
    source_channel: str
    source_detail: str
    campaign: int | None  # index into DemoGenerator.campaigns
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_term: str
    utm_content: str
    landing_page: str
    referrer_url: str
    referred_by: int | None  # index of an earlier lead (an advocate)
    owner: int | None  # index into DemoGenerator.users (a sales rep)
    lifecycle_stage: str
    sales_status: str
    temperature: str
    qualification: str
    became_subscriber_at: datetime | None
    became_lead_at: datetime | None
    became_mql_at: datetime | None
    became_sql_at: datetime | None
    became_opportunity_at: datetime | None
    became_customer_at: datetime | None
    became_advocate_at: datetime | None
    became_disqualified_at: datetime | None
    last_activity_at: datetime
    archived: bool
    attributes: dict[str, str]
    events: tuple[DemoEvent, ...]  # in time order; the first is lead_created
    transitions: tuple[DemoTransition, ...]  # in time order
    propensity: float  # latent ground truth, sigmoid(z); never stored in the database
    persona: str  # buyer | student | job_seeker | junk (ground truth, not stored)


# --- small helpers --------------------------------------------------------------------------


class _Weighted[T]:
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


def _rng(seed: int, stream: str) -> random.Random:
    # Seeded pseudo-random demo data, not secrets: `secrets` could not reproduce it.
    return random.Random(f"leadbase-demo:{seed}:{stream}")  # noqa: S311


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split("|") if part.strip())


_TRANSLIT = str.maketrans(
    {
        "ß": "ss",
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "æ": "ae",
        "Æ": "AE",
        "đ": "d",
        "\u0131": "i",
    }
)


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits only: 'Łukasz' -> 'lukasz', "O'Brien" -> 'obrien'."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


class _Name(NamedTuple):
    display: str
    ascii: str


def _names(text: str) -> tuple[_Name, ...]:
    """'José|Zoë|伟=wei': display names, with an ASCII form for addresses after '='."""
    out = []
    for item in _split(text):
        display, _, plain = item.partition("=")
        out.append(_Name(display, plain or ascii_slug(display)))
    return tuple(out)


class _HashSet:
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


# --- reference data -------------------------------------------------------------------------


class _Country(NamedTuple):
    code: str
    weight: float
    culture: str
    places: tuple[tuple[str, tuple[str, ...]], ...]  # (region, cities)
    legal: tuple[str, ...]
    fit: float
    territory: int  # index of the sales rep (see _USERS)


def _places(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    out = []
    for part in text.split(";"):
        region, _, cities = part.partition(":")
        out.append((region.strip(), _split(cities)))
    return tuple(out)


_COUNTRIES: tuple[_Country, ...] = (
    _Country("US", 30, "en", _places(
        "California: San Francisco|Los Angeles|San Diego|San Jose; New York: New York|Buffalo;"
        "Texas: Austin|Dallas|Houston; Illinois: Chicago; Massachusetts: Boston|Cambridge;"
        "Washington: Seattle; Georgia: Atlanta; Colorado: Denver|Boulder; Florida: Miami|Tampa"
    ), _split("Inc.|LLC|Corp."), 0.1, 0),
    _Country("GB", 10, "en", _places(
        "England: London|Manchester|Bristol|Leeds|Birmingham|Cambridge; Scotland: Edinburgh|"
        "Glasgow; Wales: Cardiff; Northern Ireland: Belfast"
    ), _split("Ltd|plc|LLP"), 0.1, 2),
    _Country("DE", 9, "de", _places(
        "Berlin: Berlin; Bayern: München|Nürnberg; Hamburg: Hamburg; Hessen: Frankfurt am Main;"
        "Nordrhein-Westfalen: Köln|Düsseldorf|Essen; Baden-Württemberg: Stuttgart|Karlsruhe;"
        "Sachsen: Leipzig|Dresden"
    ), _split("GmbH|AG|GmbH & Co. KG"), 0.1, 3),
    _Country("FR", 6, "fr", _places(
        "Île-de-France: Paris|Boulogne-Billancourt; Auvergne-Rhône-Alpes: Lyon|Grenoble;"
        "Occitanie: Toulouse|Montpellier; Provence-Alpes-Côte d'Azur: Marseille|Nice;"
        "Nouvelle-Aquitaine: Bordeaux; Hauts-de-France: Lille"
    ), _split("SAS|SA|SARL"), 0.0, 2),
    _Country("NL", 4, "nl", _places(
        "Noord-Holland: Amsterdam|Haarlem; Zuid-Holland: Rotterdam|Den Haag|Delft;"
        "Utrecht: Utrecht; Noord-Brabant: Eindhoven"
    ), _split("B.V.|N.V."), 0.1, 2),
    _Country("ES", 4, "es", _places(
        "Comunidad de Madrid: Madrid; Cataluña: Barcelona; Comunidad Valenciana: Valencia|"
        "Alicante; Andalucía: Sevilla|Málaga; País Vasco: Bilbao"
    ), _split("S.L.|S.A."), -0.1, 2),
    _Country("IT", 3, "it", _places(
        "Lombardia: Milano|Bergamo; Lazio: Roma; Piemonte: Torino; Emilia-Romagna: Bologna;"
        "Toscana: Firenze"
    ), _split("S.r.l.|S.p.A."), -0.1, 2),
    _Country("SE", 3, "sv", _places(
        "Stockholms län: Stockholm; Västra Götalands län: Göteborg; Skåne län: Malmö|Lund;"
        "Uppsala län: Uppsala"
    ), _split("AB"), 0.1, 3),
    _Country("CA", 5, "en", _places(
        "Ontario: Toronto|Ottawa|Waterloo; Québec: Montréal|Québec; British Columbia: "
        "Vancouver|Victoria; Alberta: Calgary|Edmonton"
    ), _split("Inc.|Ltd."), 0.1, 0),
    _Country("AU", 4, "en", _places(
        "New South Wales: Sydney|Newcastle; Victoria: Melbourne; Queensland: Brisbane|"
        "Gold Coast; Western Australia: Perth"
    ), _split("Pty Ltd"), 0.1, 3),
    _Country("IN", 6, "in", _places(
        "Karnataka: Bengaluru|Mysuru; Maharashtra: Mumbai|Pune; Telangana: Hyderabad;"
        "Tamil Nadu: Chennai; Delhi: New Delhi; Haryana: Gurugram"
    ), _split("Pvt Ltd|Ltd"), -0.25, 3),
    _Country("BR", 4, "pt", _places(
        "São Paulo: São Paulo|Campinas; Rio de Janeiro: Rio de Janeiro; Minas Gerais: "
        "Belo Horizonte; Paraná: Curitiba; Santa Catarina: Florianópolis"
    ), _split("Ltda.|S.A."), -0.15, 1),
    _Country("PL", 2, "pl", _places(
        "Mazowieckie: Warszawa; Małopolskie: Kraków; Dolnośląskie: Wrocław; Pomorskie: Gdańsk"
    ), _split("Sp. z o.o.|S.A."), -0.1, 3),
    _Country("CH", 2, "de", _places(
        "Zürich: Zürich|Winterthur; Genève: Genève; Bern: Bern; Basel-Stadt: Basel"
    ), _split("AG|GmbH|SA"), 0.1, 3),
    _Country("IE", 2, "en", _places(
        "Leinster: Dublin; Munster: Cork|Limerick; Connacht: Galway"
    ), _split("Ltd|DAC"), 0.1, 2),
    _Country("JP", 2, "ja", _places(
        "Tokyo: Tokyo; Osaka: Osaka; Kanagawa: Yokohama; Aichi: Nagoya; Fukuoka: Fukuoka"
    ), _split("K.K."), -0.2, 3),
    _Country("SG", 2, "sg", _places("Central Region: Singapore"), _split("Pte. Ltd."), 0.0, 3),
    _Country("MX", 2, "es", _places(
        "Ciudad de México: Ciudad de México; Jalisco: Guadalajara; Nuevo León: Monterrey"
    ), _split("S.A. de C.V."), -0.15, 1),
)  # fmt: skip
_COUNTRY = {c.code: c for c in _COUNTRIES}
_COUNTRY_PICK = _Weighted([(c, c.weight) for c in _COUNTRIES])
EMEA = frozenset({"GB", "DE", "FR", "NL", "ES", "IT", "SE", "PL", "CH", "IE"})

_FIRST: dict[str, tuple[_Name, ...]] = {
    "en": _names(
        "James|Olivia|Liam|Emma|Noah|Ava|Ethan|Sophia|Mason|Isabella|Lucas|Mia|Oliver|Charlotte|"
        "Elijah|Amelia|Benjamin|Harper|Henry|Evelyn|Jack|Grace|Samuel|Chloe|Daniel|Zoë|Michael|"
        "Emily|David|Sarah|Ryan|Hannah|Nathan|Megan|Aaron|Rachel|Tyler|Lauren|Connor|Abigail|"
        "Dylan|Natalie|Sean|Keisha|Darnell|Aaliyah|Jamal|Imani|Siobhán|Niamh|Ciarán|Aoife"
    ),
    "de": _names(
        "Lukas|Leon|Finn|Jonas|Paul|Felix|Maximilian|Jürgen|Uwe|Stefan|Andreas|Thomas|Tobias|"
        "Florian|Sebastian|Katrin|Anna|Lea|Lena|Hannah|Sophie|Marie|Julia|Sabine|Ute|Birgit|"
        "Jana|Leonie|Björn|Sören|Jörg|Matthias|Claudia|Franziska|Gisela|Mehmet|Ayşe"
    ),
    "fr": _names(
        "Camille|Léa|Manon|Chloé|Inès|Élodie|Hélène|Margaux|Julie|Céline|Amélie|Louis|Hugo|"
        "Gabriel|Arthur|Jules|Théo|Raphaël|Mathis|Nicolas|Julien|Antoine|Benoît|François|"
        "Jérôme|Sébastien|Loïc|Maël|Anaïs|Aurélie|Karim|Yasmine"
    ),
    "nl": _names(
        "Daan|Sem|Levi|Bram|Jesse|Thijs|Ruben|Sven|Joost|Pieter|Maarten|Emma|Sanne|Lotte|"
        "Fleur|Anouk|Femke|Eva|Noor|Iris|Maud|Ilse|Gijs|Willemijn"
    ),
    "es": _names(
        "José|María|Javier|Carmen|Alejandro|Lucía|Pablo|Sofía|Daniel|Paula|Sergio|Elena|Álvaro|"
        "Marta|Adrián|Laura|Raúl|Cristina|Íñigo|Nuria|Jesús|Pilar|Guillermo|Ainhoa|Andrés|"
        "Beatriz|Iker|Montserrat|Guadalupe|Ximena|Diego|Fernanda"
    ),
    "it": _names(
        "Giulia|Francesca|Chiara|Sara|Martina|Alessia|Federica|Elisa|Valentina|Giorgia|Marco|"
        "Luca|Matteo|Alessandro|Andrea|Lorenzo|Davide|Simone|Francesco|Giuseppe|Niccolò|"
        "Riccardo|Stefano|Tommaso"
    ),
    "sv": _names(
        "Åsa|Anna|Eva|Maria|Karin|Sara|Elin|Ida|Maja|Linnéa|Ebba|Sofia|Lars|Anders|Johan|Erik|"
        "Per|Karl|Mikael|Björn|Oskar|Nils|Gustav|Viktor|Måns"
    ),
    "pt": _names(
        "João|Maria|Ana|Pedro|Lucas|Gabriel|Mateus|Rafael|Gustavo|Felipe|Bruno|Thiago|Leonardo|"
        "Beatriz|Juliana|Fernanda|Camila|Larissa|Letícia|Mariana|Luíza|Vitória|Débora|Antônio|"
        "Sebastião"
    ),
    "in": _names(
        "Aarav|Vihaan|Aditya|Arjun|Rohan|Rahul|Vikram|Sanjay|Amit|Rajesh|Karthik|Siddharth|"
        "Ananya|Priya|Diya|Aditi|Kavya|Sneha|Pooja|Neha|Deepika|Lakshmi|Meera|Shreya|Ishaan|"
        "Nikhil"
    ),
    "pl": _names(
        "Łukasz|Paweł|Michał|Piotr|Tomasz|Krzysztof|Marcin|Grzegorz|Jakub|Mateusz|Wojciech|"
        "Bartłomiej|Anna|Agnieszka|Katarzyna|Małgorzata|Magdalena|Joanna|Aleksandra|Zofia|"
        "Natalia|Ewa|Karolina|Weronika"
    ),
    "ja": _names(
        "翔太=shota|大輝=daiki|健太=kenta|拓也=takuya|直樹=naoki|陽菜=hina|花子=hanako|美咲=misaki|"
        "結衣=yui|恵=megumi|Haruto|Yuki|Sakura|Ren"
    ),
    "zh": _names(
        "伟=wei|芳=fang|娜=na|敏=min|静=jing|丽=li|强=qiang|磊=lei|军=jun|洋=yang|艳=yan|杰=jie|"
        "婷=ting|浩=hao|Wei|Xin|Hui|Ming"
    ),
    "sg": _names(
        "Jun Jie|Wei Ling|Hui Min|Kai Wen|Rachel|Marcus|Darren|Nurul|Siti|Muhammad|Aisyah|"
        "Priya|Shawn|Jia Hui"
    ),
}
_LAST: dict[str, tuple[_Name, ...]] = {
    "en": _names(
        "Smith|Johnson|Williams|Brown|Jones|Garcia|Miller|Davis|Wilson|Anderson|Taylor|Thomas|"
        "Moore|Jackson|Martin|Lee|Thompson|White|Harris|Clark|Lewis|Robinson|Walker|Young|Allen|"
        "King|Wright|Scott|Hill|Green|Adams|Baker|Nelson|Carter|Mitchell|Roberts|Turner|Phillips|"
        "Campbell|Evans|Edwards|Collins|Stewart|Murphy|O'Brien|O'Connor|Kelly|Walsh|Hughes|Patel|"
        "Nguyen|Kim|Okafor|Mensah"
    ),
    "de": _names(
        "Müller|Schmidt|Schneider|Fischer|Weber|Meyer|Wagner|Becker|Schulz|Hoffmann|Schäfer|"
        "Koch|Bauer|Richter|Klein|Wolf|Schröder|Neumann|Schwarz|Zimmermann|Braun|Krüger|Hofmann|"
        "Hartmann|Lange|Schmitt|Werner|Krause|Meier|Lehmann|Köhler|Groß|Weiß|Yılmaz|Kaya"  # noqa: RUF001
    ),
    "fr": _names(
        "Martin|Bernard|Dubois|Thomas|Robert|Richard|Petit|Durand|Leroy|Moreau|Simon|Laurent|"
        "Lefèvre|Michel|Garcia|David|Bertrand|Roux|Vincent|Fournier|Girard|Bonnet|Dupont|"
        "Lambert|Fontaine|Rousseau|Mercier|Blanc|Guérin|Faure|Benali|Haddad"
    ),
    "nl": _names(
        "de Jong|Jansen|de Vries|van den Berg|van Dijk|Bakker|Janssen|Visser|Smit|Meijer|"
        "de Boer|Mulder|de Groot|Bos|Vos|Peters|Hendriks|van Leeuwen|Dekker|Brouwer|de Wit|"
        "Dijkstra|Smits|van der Meer|Kuipers"
    ),
    "es": _names(
        "García|Fernández|González|Rodríguez|López|Martínez|Sánchez|Pérez|Gómez|Martín|Jiménez|"
        "Ruiz|Hernández|Díaz|Moreno|Muñoz|Álvarez|Romero|Alonso|Gutiérrez|Navarro|Torres|"
        "Domínguez|Vázquez|Ramos|Núñez|Ibáñez|Castillo"
    ),
    "it": _names(
        "Rossi|Russo|Ferrari|Esposito|Bianchi|Romano|Colombo|Ricci|Marino|Greco|Bruno|Gallo|"
        "Conti|De Luca|Mancini|Costa|Giordano|Rizzo|Lombardi|Moretti|Barbieri|Fontana|Santoro|"
        "Caruso|Mariani"
    ),
    "sv": _names(
        "Andersson|Johansson|Karlsson|Nilsson|Eriksson|Larsson|Olsson|Persson|Svensson|"
        "Gustafsson|Pettersson|Jonsson|Lindberg|Lindqvist|Lindström|Bergström|Sjöberg|Öberg|"
        "Åberg|Ekström|Holm|Sandberg|Forsberg|Wallin|Engström"
    ),
    "pt": _names(
        "Silva|Santos|Oliveira|Souza|Rodrigues|Ferreira|Alves|Pereira|Lima|Gomes|Costa|Ribeiro|"
        "Martins|Carvalho|Almeida|Lopes|Soares|Fernandes|Vieira|Barbosa|Rocha|Dias|Nascimento|"
        "Araújo|Conceição|Magalhães|Gonçalves"
    ),
    "in": _names(
        "Sharma|Verma|Gupta|Patel|Singh|Kumar|Reddy|Rao|Iyer|Nair|Menon|Pillai|Mehta|Shah|Joshi|"
        "Desai|Kulkarni|Chatterjee|Banerjee|Mukherjee|Das|Bose|Agarwal|Malhotra|Kapoor|Krishnan"
    ),
    "pl": _names(
        "Nowak|Wójcik|Kowalczyk|Woźniak|Mazur|Krawczyk|Kaczmarek|Zając|Król|Wróbel|Wieczorek|"
        "Adamczyk|Dudek|Pawlak|Walczak|Sikora|Baran|Duda|Szewczyk|Michalak|Pietrzak|Jasiński"
    ),
    "ja": _names(
        "佐藤=sato|鈴木=suzuki|高橋=takahashi|田中=tanaka|伊藤=ito|渡辺=watanabe|山本=yamamoto|"
        "中村=nakamura|小林=kobayashi|加藤=kato|Sato|Tanaka|Suzuki"
    ),
    "zh": _names(
        "王=wang|李=li|张=zhang|刘=liu|陈=chen|杨=yang|黄=huang|赵=zhao|吴=wu|周=zhou|林=lin|"
        "Wang|Chen|Zhang|Liu"
    ),
    "sg": _names("Tan|Lim|Lee|Ng|Ong|Wong|Goh|Chua|Koh|Teo|Rahman|Abdullah|Pillai|Menon"),
}
# People do not all have their country's most common names: this share is drawn from here.
_DIASPORA = _Weighted(
    [("en", 25), ("in", 18), ("zh", 14), ("es", 10), ("pt", 6), ("pl", 8), ("de", 6),
     ("fr", 6), ("it", 4), ("ja", 3)]
)  # fmt: skip
_JUNK_FIRST = _names("Test|Asdf|Mickey|N/A|Xx|Qwerty")
_JUNK_LAST = _names("Test|User|Mouse|Asdf|Lastname|Xxx")


class _Industry(NamedTuple):
    weight: float
    revenue_per_employee: float  # USD
    fit: float
    size_shift: float  # added to the log of the median employee count
    words: tuple[str, ...]


_INDUSTRIES: dict[str, _Industry] = {
    "software": _Industry(20, 220_000, 0.6, 0.0, _split(
        "Software|Labs|Systems|Cloud|Analytics|Technologies|AI|Data|Digital")),
    "financial services": _Industry(10, 400_000, 0.4, 0.5, _split(
        "Capital|Financial|Partners|Payments|Insurance|Asset Management")),
    "healthcare": _Industry(9, 150_000, 0.0, 0.4, _split(
        "Health|Medical|Care|Clinics|Bio|Therapeutics")),
    "manufacturing": _Industry(10, 250_000, -0.1, 0.7, _split(
        "Industries|Manufacturing|Engineering|Components|Tools|Materials")),
    "retail": _Industry(8, 180_000, -0.15, 0.3, _split("Retail|Stores|Brands|Goods|Market")),
    "education": _Industry(5, 90_000, -0.55, 0.3, _split("Learning|Academy|Education|School")),
    "government": _Industry(3, 0, -0.7, 1.0, _split(
        "City Council|Transport Authority|Public Library|Water Board|Regional Office")),
    "media": _Industry(5, 200_000, 0.1, 0.0, _split("Media|Studios|Publishing|News|Agency")),
    "logistics": _Industry(6, 200_000, 0.0, 0.6, _split(
        "Logistics|Freight|Transport|Shipping|Supply")),
    "consulting": _Industry(9, 180_000, 0.3, -0.2, _split(
        "Consulting|Partners|Advisory|Group|Associates")),
    "telecommunications": _Industry(3, 300_000, 0.1, 0.9, _split(
        "Telecom|Networks|Communications")),
    "energy": _Industry(3, 500_000, -0.1, 0.8, _split("Energy|Power|Renewables|Solar")),
    "nonprofit": _Industry(2, 80_000, -0.5, -0.3, _split("Foundation|Trust|Alliance")),
    "real estate": _Industry(3, 300_000, -0.2, 0.0, _split("Properties|Real Estate|Homes")),
}  # fmt: skip
_INDUSTRY_PICK = _Weighted([(name, ind.weight) for name, ind in _INDUSTRIES.items()])

_PREFIXES = _split(
    "North|Blue|Iron|Silver|Bright|Red|Green|Stone|Clear|Swift|Gold|Oak|High|Deep|Wild|Fair|"
    "East|West|True|Open"
)
_SUFFIXES = _split(
    "wind|fin|bark|gate|field|line|stone|brook|ridge|wave|light|path|forge|well|spring|bay|"
    "point|crest|leaf|works"
)
_ROOTS = _split(
    "Nova|Lumen|Vertex|Quill|Kestrel|Falcon|Aster|Cobalt|Meridian|Nimbus|Orbit|Pioneer|Atlas|"
    "Beacon|Cascade|Delta|Ember|Fable|Granite|Helix|Indigo|Juniper|Keystone|Lattice|Mosaic|"
    "Nexus|Onyx|Pinnacle|Quartz|Radiant|Sequoia|Tandem|Vantage|Willow|Zephyr|Harbor|Summit|"
    "Maple|Cedar|Aurora|Solace|Tidal|Sparrow|Copper|Alder|Hollow|Lark"
)
_EMAIL_PATTERNS = _Weighted(
    [("first.last", 62), ("flast", 12), ("first", 7), ("firstl", 5), ("first_last", 6),
     ("last.first", 3), ("f.last", 5)]
)  # fmt: skip

# Department -> seniority -> job titles. Each title agrees with the seniority that
# leadbase.leads.normalize.seniority_from_title reads from it (or reads nothing).
_TITLES: dict[str, dict[str, tuple[str, ...]]] = {
    "Marketing": {
        "entry": _split("Marketing Assistant|Junior Marketing Associate|Marketing Intern"),
        "senior": _split("Senior Marketing Specialist|Senior Content Marketer|"
                         "Senior Demand Generation Specialist"),
        "manager": _split("Marketing Manager|Demand Generation Manager|Marketing Operations "
                          "Manager|Content Marketing Manager|Growth Marketing Lead"),
        "director": _split("Director of Marketing|Head of Growth|Head of Demand Generation|"
                           "Marketing Director"),
        "vp": _split("VP Marketing|SVP Growth|VP Demand Generation"),
        "c_level": _split("Chief Marketing Officer|CMO"),
        "": _split("Marketing Specialist|Growth Marketer|Content Strategist"),
    },
    "Sales": {
        "entry": _split("Sales Development Representative|Junior Account Executive|"
                        "Sales Assistant"),
        "senior": _split("Senior Account Executive|Senior Sales Consultant"),
        "manager": _split("Sales Manager|Sales Team Lead|Regional Sales Manager"),
        "director": _split("Director of Sales|Head of Sales|Sales Director"),
        "vp": _split("VP Sales|SVP Sales|VP Business Development"),
        "c_level": _split("Chief Revenue Officer|CRO|Chief Sales Officer"),
        "": _split("Account Executive|Business Development Representative"),
    },
    "Revenue Operations": {
        "entry": _split("Junior RevOps Analyst|Sales Operations Assistant"),
        "senior": _split("Senior Revenue Operations Analyst|Senior CRM Administrator"),
        "manager": _split("Revenue Operations Manager|Sales Operations Manager|CRM Manager"),
        "director": _split("Director of Revenue Operations|Head of RevOps"),
        "vp": _split("VP Revenue Operations"),
        "c_level": _split("Chief Revenue Officer"),
        "": _split("RevOps Analyst|CRM Administrator"),
    },
    "IT": {
        "entry": _split("IT Support Assistant|Junior Systems Administrator"),
        "senior": _split("Senior Systems Engineer|Senior IT Analyst"),
        "manager": _split("IT Manager|Infrastructure Lead"),
        "director": _split("IT Director|Head of IT"),
        "vp": _split("VP Information Technology"),
        "c_level": _split("Chief Information Officer|CIO"),
        "": _split("Systems Administrator|IT Consultant"),
    },
    "Engineering": {
        "entry": _split("Junior Software Engineer|Software Engineering Intern"),
        "senior": _split("Senior Software Engineer|Staff Engineer|Principal Engineer"),
        "manager": _split("Engineering Manager|Tech Lead"),
        "director": _split("Director of Engineering|Head of Engineering"),
        "vp": _split("VP Engineering"),
        "c_level": _split("Chief Technology Officer|CTO"),
        "": _split("Software Engineer|Data Engineer"),
    },
    "Operations": {
        "entry": _split("Operations Assistant|Operations Trainee"),
        "senior": _split("Senior Operations Analyst"),
        "manager": _split("Operations Manager|Business Operations Lead"),
        "director": _split("Director of Operations|Head of Operations"),
        "vp": _split("VP Operations"),
        "c_level": _split("Chief Operating Officer|COO"),
        "": _split("Operations Analyst|Business Analyst"),
    },
    "Finance": {
        "entry": _split("Junior Accountant|Finance Assistant"),
        "senior": _split("Senior Financial Analyst|Senior Accountant"),
        "manager": _split("Finance Manager|Controlling Manager"),
        "director": _split("Finance Director|Head of Finance"),
        "vp": _split("VP Finance"),
        "c_level": _split("Chief Financial Officer|CFO"),
        "": _split("Financial Analyst|Controller"),
    },
    "Customer Success": {
        "entry": _split("Customer Support Assistant|Junior Support Specialist"),
        "senior": _split("Senior Customer Success Specialist|Senior Support Engineer"),
        "manager": _split("Customer Success Manager|Support Team Lead"),
        "director": _split("Director of Customer Success|Head of Customer Success"),
        "vp": _split("VP Customer Success"),
        "c_level": _split("Chief Customer Officer"),
        "": _split("Customer Success Specialist|Onboarding Specialist"),
    },
    "Human Resources": {
        "entry": _split("HR Assistant|Recruiting Intern"),
        "senior": _split("Senior HR Generalist|Senior Recruiter"),
        "manager": _split("HR Manager|Talent Acquisition Lead"),
        "director": _split("HR Director|Head of People"),
        "vp": _split("VP People"),
        "c_level": _split("Chief People Officer"),
        "": _split("HR Generalist|Recruiter"),
    },
    "Product": {
        "entry": _split("Junior Product Analyst|Product Design Intern"),
        "senior": _split("Senior Product Designer|Senior Product Analyst"),
        "manager": _split("Product Manager|Product Lead"),
        "director": _split("Director of Product|Head of Product"),
        "vp": _split("VP Product"),
        "c_level": _split("Chief Product Officer|CPO"),
        "": _split("Product Specialist|UX Researcher"),
    },
}  # fmt: skip
_EXECUTIVE = {
    "owner": _split("Founder|Owner|Co-Founder & CEO|Founder & Managing Partner"),
    "c_level": _split("Chief Executive Officer|CEO|President"),
}
_DEPARTMENTS = _Weighted(
    [("Marketing", 30), ("Sales", 20), ("Revenue Operations", 8), ("IT", 8), ("Engineering", 6),
     ("Operations", 7), ("Finance", 4), ("Customer Success", 6), ("Human Resources", 3),
     ("Product", 5)]
)  # fmt: skip
_SENIORITY_BY_SIZE = (  # (max employees, weights)
    (19, _Weighted([("owner", 22), ("c_level", 14), ("vp", 2), ("director", 8), ("manager", 20),
                    ("senior", 14), ("entry", 10), ("", 10)])),
    (999, _Weighted([("owner", 2), ("c_level", 6), ("vp", 8), ("director", 14), ("manager", 30),
                     ("senior", 20), ("entry", 12), ("", 8)])),
    (10**9, _Weighted([("c_level", 2), ("vp", 6), ("director", 14), ("manager", 32),
                       ("senior", 24), ("entry", 14), ("", 8)])),
)  # fmt: skip

# How each observable trait moves the latent propensity (logit scale).
_FIT_SENIORITY = {"owner": 0.5, "c_level": 0.6, "vp": 0.7, "director": 0.6, "manager": 0.35,
                  "senior": 0.0, "entry": -0.6, "": -0.3}  # fmt: skip
_FIT_DEPARTMENT = {"Marketing": 0.45, "Sales": 0.35, "Revenue Operations": 0.6, "Executive": 0.3,
                   "IT": 0.0, "Engineering": -0.3, "Operations": -0.1, "Finance": -0.2,
                   "Customer Success": 0.0, "Human Resources": -0.6, "Product": -0.1,
                   "": -0.3}  # fmt: skip
_CHANNEL_EFFECT = {"referral": 0.9, "event": 0.5, "partner": 0.45, "direct": 0.25,
                   "organic_search": 0.1, "paid_search": 0.0, "email": -0.05,
                   "organic_social": -0.2, "paid_social": -0.6, "import": -0.9}  # fmt: skip
_CHANNEL_WEIGHT = {"organic_search": 25, "paid_search": 17, "paid_social": 11,
                   "organic_social": 6, "email": 8, "referral": 6, "direct": 11,
                   "partner": 6}  # fmt: skip


def _size_fit(employees: int) -> float:
    if employees < 10:
        return -0.7
    if employees < 50:
        return -0.1
    if employees < 200:
        return 0.3
    if employees < 1000:
        return 0.5
    if employees < 5000:
        return 0.35
    return 0.1


# Points a behaviour is worth, for the MQL threshold and the temperature.
POINTS: dict[str, int] = {
    "lead_created": 0, "page_view": 1, "pricing_page_view": 8, "content_download": 6,
    "webinar_registered": 5, "webinar_attended": 10, "demo_request": 40, "quote_request": 40,
    "trial_signup": 30, "form_submitted": 6, "email_opened": 1, "email_clicked": 3,
    "unsubscribed": -15, "email_bounced": -10,
}  # fmt: skip
HAND_RAISERS = frozenset({"demo_request", "trial_signup", "quote_request"})
_CONVERTING = frozenset({"content_download", "webinar_registered", "form_submitted", *HAND_RAISERS})
_HOT, _WARM, _WINDOW = 35, 10, 30 * DAY

_PAGES = _Weighted(
    [(("/", "Brightwave - Lead management for B2B teams"), 20),
     (("/product", "Product overview"), 12), (("/product/scoring", "Lead scoring"), 7),
     (("/product/routing", "Lead routing"), 6), (("/integrations", "Integrations"), 6),
     (("/customers", "Customer stories"), 5), (("/security", "Security and compliance"), 3),
     (("/blog/what-is-an-mql", "What is an MQL, really?"), 8),
     (("/blog/lead-scoring-models", "Five lead scoring models compared"), 7),
     (("/blog/speed-to-lead", "Speed to lead: why the first five minutes matter"), 6),
     (("/blog/utm-hygiene", "UTM hygiene for busy marketers"), 5),
     (("/docs/getting-started", "Docs: Getting started"), 4), (("/about", "About us"), 3),
     (("/careers", "Careers"), 2)]
)  # fmt: skip
_CAREERS = ("/careers", "Careers")
_CONTENT = (
    ("The lead scoring playbook", "ebook", "/ebooks/lead-scoring-playbook"),
    ("B2B funnel benchmark report", "report", "/reports/funnel-benchmarks"),
    ("RevOps starter kit", "template", "/templates/revops-starter-kit"),
    ("Lead routing checklist", "checklist", "/checklists/lead-routing"),
    ("Buyer's guide to lead management software", "guide", "/guides/buyers-guide"),
)
_NURTURE = (
    "Welcome to Brightwave", "3 ways to answer leads faster",
    "Customer story: Kestrel Logistics doubled its demo rate", "Your lead scoring checklist",
    "How RevOps teams report on the funnel", "Routing rules that sales trusts",
)  # fmt: skip
_LOSS_REASONS = _split("no budget|chose a competitor|no decision|timing: next year|"
                       "missing integration|price")  # fmt: skip
_DISQUALIFY_REASONS = _split("too small for the product|no budget|wrong persona|"
                             "no project this year|locked into a contract")  # fmt: skip
_ACCEPT_REASONS = _split("discovery call booked|budget and timeline confirmed|"
                         "active evaluation|pain confirmed on first call")  # fmt: skip
_MONTHS = _split(
    "January|February|March|April|May|June|July|August|September|October|November|December"
)
_PLANS = (("Team", 5, 20), ("Business", 15, 80), ("Enterprise", 60, 400))


class _CampaignSpec(NamedTuple):
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


_CAMPAIGN_SPECS = (
    _CampaignSpec("Google Ads - Brand", "paid_search", "google", "cpc", "brand-search",
                  _split("brightwave|brightwave pricing|brightwave crm|brightwave demo"), (),
                  -200, None, 2500, 0.3, 0, "web"),
    _CampaignSpec("Google Ads - Lead management", "paid_search", "google", "cpc",
                  "lead-management-search", _split("lead management software|lead scoring tool|"
                  "crm for small business|lead routing software|b2b lead tracking"), (),
                  -120, None, 9000, 0.55, 0, "web"),
    _CampaignSpec("Microsoft Ads - Lead management", "paid_search", "bing", "cpc",
                  "lead-management-bing", _split("lead management software|lead scoring tool"),
                  (), 60, None, 1500, 0.15, 0, "web"),
    _CampaignSpec("LinkedIn Ads - RevOps leaders", "paid_social", "linkedin", "paid_social",
                  "revops-leaders", (), _split("carousel-speed-to-lead|video-30s|document-ad"),
                  -60, None, 8000, 0.5, 0, "web"),
    _CampaignSpec("Meta Ads - Retargeting", "paid_social", "facebook", "paid_social",
                  "retargeting", (), _split("static-pricing|static-customers|reel-demo"),
                  30, None, 3500, 0.25, 0, "web"),
    _CampaignSpec("LinkedIn Lead Gen - Lead scoring playbook", "paid_social", "linkedin",
                  "paid_social", "lead-scoring-playbook", (), ("lead-gen-form",),
                  120, 60, 14000, 0.9, 0, "lead_gen"),
    _CampaignSpec("LinkedIn - Organic posts", "organic_social", "linkedin", "social",
                  "linkedin-organic", (), (), -300, None, 0, 0.6, 0, "web"),
    _CampaignSpec("Monthly newsletter", "email", "newsletter", "email", "monthly-newsletter",
                  (), (), -365, None, 150, 0.6, 0, "web"),
    _CampaignSpec("Nurture - Welcome series", "email", "nurture", "email", "welcome-series",
                  (), (), -365, None, 100, 0.4, 0, "web"),
    _CampaignSpec("Customer referral programme", "referral", "customer-referral", "referral",
                  "customer-referrals", (), (), -365, None, 1200, 0.7, 0, "referral"),
    _CampaignSpec("G2 profile", "referral", "g2", "referral", "g2-profile", (), (),
                  -200, None, 2000, 0.3, 0, "web"),
    _CampaignSpec("Agency partner programme", "partner", "partner-portal", "partner",
                  "agency-partners", (), (), -365, None, 1000, 0.6, 0, "partner"),
    _CampaignSpec("Integrations marketplace", "partner", "marketplace", "referral",
                  "integrations-marketplace", (), (), -300, None, 500, 0.4, 0, "partner"),
    _CampaignSpec("Webinar: Routing leads in under five minutes", "event", "webinar", "webinar",
                  "webinar-lead-routing", (), (), 40, 21, 3000, 0, 0.35, "webinar"),
    _CampaignSpec("Webinar: Forecasting from funnel data", "event", "webinar", "webinar",
                  "webinar-funnel-forecasting", (), (), 190, 21, 3500, 0, 0.35, "webinar"),
    _CampaignSpec("RevOps Summit {year} - booth", "event", "revops-summit", "event",
                  "revops-summit-{year}", (), (), 95, 3, 38000, 0, 2.5, "badges"),
    _CampaignSpec("Growth Marketing Expo {year}", "event", "growth-expo", "event",
                  "growth-expo-{year}", (), (), 215, 2, 22000, 0, 2.0, "badges"),
    _CampaignSpec("Purchased list - EMEA SaaS decision makers", "import", "data-vendor", "list",
                  "emea-saas-list", (), (), 150, 1, 6000, 0, 6.0, "list"),
)  # fmt: skip

_USERS = (
    DemoUser("ben.carter", "Ben", "Carter", f"ben.carter@{STAFF_DOMAIN}", "sales_rep",
             "North America (mid-market)"),
    DemoUser("ana.souza", "Ana", "Souza", f"ana.souza@{STAFF_DOMAIN}", "sales_rep",
             "North America enterprise and Latin America"),
    DemoUser("chloe.martin", "Chloé", "Martin", f"chloe.martin@{STAFF_DOMAIN}", "sales_rep",
             "UK & Ireland, France, Benelux, Southern Europe"),
    DemoUser("jonas.becker", "Jonas", "Becker", f"jonas.becker@{STAFF_DOMAIN}", "sales_rep",
             "DACH, Nordics, Poland and Asia-Pacific"),
    DemoUser("maya.okafor", "Maya", "Okafor", f"maya.okafor@{STAFF_DOMAIN}", "marketer",
             "Marketing operations"),
)  # fmt: skip
_MARKETER = 4

# US and Canadian numbers stay inside the fictional 555-01XX range.
_NANP_AREAS = {
    "US": (212, 213, 312, 415, 512, 617, 646, 206, 303, 404, 305, 702, 713, 214, 720, 408),
    "CA": (416, 514, 604, 403, 613, 905),
}


def company_count(leads: int) -> int:
    """How many companies go with `leads` leads: leads/15, at least 300."""
    return max(MIN_COMPANIES, leads // LEADS_PER_COMPANY)


# --- the generator --------------------------------------------------------------------------


class _Stream:
    """What one pass over the leads carries from lead to lead: bounded, except the compact
    email set (8 bytes a slot, sized for the lead count)."""

    def __init__(self, leads: int) -> None:
        self.emails = _HashSet(leads)
        self.pending_advocates: list[tuple[float, int]] = []  # heap of (since, index)
        self.advocates: list[int] = []  # recent advocates, to refer new leads

    def advocate_at(self, t: float, r: random.Random) -> int | None:
        """One of the recent advocates (customers who agreed to refer) as of `t`."""
        while self.pending_advocates and self.pending_advocates[0][0] <= t:
            self.advocates.append(heapq.heappop(self.pending_advocates)[1])
            if len(self.advocates) > 4000:
                del self.advocates[:2000]
        return r.choice(self.advocates) if self.advocates else None


class DemoGenerator:
    """Deterministic demo data for `leads` leads created over `days` days before `now`.

    `now` defaults to today's midnight (UTC): pass it for output that is identical whatever
    the day; otherwise runs on different days differ only by a shift of every timestamp.
    """

    def __init__(
        self,
        *,
        leads: int = 5000,
        seed: int = 7,
        now: datetime | None = None,
        days: int = DEFAULT_DAYS,
    ) -> None:
        if leads < 0:
            raise ValueError("leads must be zero or more")
        if days < 30:
            raise ValueError("days must be at least 30")
        if now is None:
            now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        elif now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self.leads = leads
        self.seed = seed
        self.days = days
        self.now = now.astimezone(UTC).replace(microsecond=0)
        self._now = self.now.timestamp()
        self._newsletters: dict[int, str] = {}
        self._start = self._now - days * DAY
        self.users: tuple[DemoUser, ...] = _USERS
        self.campaigns: tuple[DemoCampaign, ...] = self._make_campaigns()
        self.companies: tuple[DemoCompany, ...] = self._make_companies(company_count(leads))
        self._company_pick = _Weighted([(c.index, c.employee_count**0.45) for c in self.companies])
        self._emea_companies = _Weighted(
            [(c.index, c.employee_count**0.45) for c in self.companies if c.country in EMEA]
            or [(0, 1.0)]
        )
        self._day_counts, self._day_options = self._plan_days()

    # -- timestamps --

    def _dt(self, t: float) -> datetime:
        return datetime.fromtimestamp(int(t), UTC)

    def newsletter(self, t: float) -> str:
        """The name of the newsletter sent in t's month (English whatever the locale)."""
        day = int(t // DAY)
        name = self._newsletters.get(day)
        if name is None:
            when = self._dt(t)
            name = f"Monthly newsletter - {_MONTHS[when.month - 1]} {when.year}"
            self._newsletters[day] = name
        return name

    # -- campaigns --

    def _make_campaigns(self) -> tuple[DemoCampaign, ...]:
        r = _rng(self.seed, "campaigns")
        start_day = self._dt(self._start).date()
        self._campaign_window: list[tuple[float, float]] = []
        self._campaign_specs = _CAMPAIGN_SPECS
        out = []
        for index, spec in enumerate(_CAMPAIGN_SPECS):
            starts_on = start_day + timedelta(days=spec.start_day)
            year = str(starts_on.year)
            begin = self._start + spec.start_day * DAY
            if spec.length_days is None:
                ends_on = None
                end = self._now
                months = max(0.0, (self._now - begin) / (30 * DAY))
                cost = spec.cost * months * r.uniform(0.9, 1.1)
            else:
                ends_on = starts_on + timedelta(days=spec.length_days - 1)
                end = begin + spec.length_days * DAY
                cost = spec.cost * r.uniform(0.9, 1.1)
            self._campaign_window.append((begin, end))
            created = self._dt(begin - r.uniform(3, 20) * DAY)
            out.append(
                DemoCampaign(
                    index=index,
                    name=spec.name.format(year=year),
                    channel=spec.channel,
                    utm_source=spec.source,
                    utm_medium=spec.medium,
                    utm_campaign=spec.slug.format(year=year),
                    utm_term="",
                    utm_content="",
                    cost=Decimal(round(cost)).quantize(Decimal("0.01")),
                    starts_on=starts_on,
                    ends_on=ends_on,
                    created_at=created,
                )
            )
        return tuple(out)

    # -- companies --

    def _make_companies(self, count: int) -> tuple[DemoCompany, ...]:
        r = _rng(self.seed, "companies")
        used: set[str] = set()
        out = []
        for index in range(count):
            country = _COUNTRY_PICK.pick(r)
            industry = _INDUSTRY_PICK.pick(r)
            info = _INDUSTRIES[industry]
            employees = int(
                min(250_000, max(1, r.lognormvariate(math.log(45) + info.size_shift, 1.6)))
            )
            region, cities = r.choice(country.places)
            city = r.choice(cities)
            name, slug_options = self._company_name(r, country, industry, city)
            domain = self._unique_domain(r, slug_options, country.code, used)
            revenue: Decimal | None = None
            if info.revenue_per_employee:
                value = employees * info.revenue_per_employee * r.lognormvariate(0, 0.45)
                revenue = Decimal(max(1000, round(value, -3))).quantize(Decimal("0.01"))
            pattern = _EMAIL_PATTERNS.pick(r)
            if pattern == "first" and employees > 50:
                pattern = "first.last"
            out.append(
                DemoCompany(
                    index=index,
                    name=name,
                    domain=domain,
                    industry=industry,
                    employee_count=employees,
                    annual_revenue=revenue,
                    country=country.code,
                    region=region,
                    city=city,
                    created_at=self._dt(self._start - r.uniform(5, 60) * DAY),
                    email_pattern=pattern,
                )
            )
        return tuple(out)

    def _company_name(
        self, r: random.Random, country: _Country, industry: str, city: str
    ) -> tuple[str, list[str]]:
        words = _INDUSTRIES[industry].words
        if industry == "government":
            name = f"{city} {r.choice(words)}"
            return name, [ascii_slug(name)]
        roll = r.random()
        surnames = _LAST.get(country.culture, _LAST["en"])
        if roll < 0.45:
            core = (
                r.choice(_PREFIXES) + r.choice(_SUFFIXES)
                if r.random() < 0.5
                else (r.choice(_ROOTS))
            )
            word = r.choice(words)
            name = f"{core} {word}"
            slugs = [ascii_slug(name), ascii_slug(core), f"{ascii_slug(core)}-{ascii_slug(word)}"]
        elif roll < 0.65:
            core = r.choice(_ROOTS)
            name = core
            slugs = [ascii_slug(core), f"{ascii_slug(core)}hq", f"get{ascii_slug(core)}"]
        elif roll < 0.88:
            surname = _latin(r.choice(surnames))
            word = r.choice(words)
            name = f"{surname.display} {word}"
            slugs = [f"{surname.ascii}{ascii_slug(word)}", f"{surname.ascii}-{ascii_slug(word)}"]
        else:
            a, b = _latin(r.choice(surnames)), _latin(r.choice(surnames))
            name = f"{a.display} & {b.display}"
            slugs = [f"{a.ascii}{b.ascii}", f"{a.ascii}-{b.ascii}"]
        if r.random() < 0.55:
            name = f"{name} {r.choice(country.legal)}"
        return name, slugs

    def _unique_domain(
        self, r: random.Random, slugs: list[str], country: str, used: set[str]
    ) -> str:
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

    # -- the days: how many leads each day, by which channel and campaign --

    def _plan_days(self) -> tuple[list[int], list[_Weighted[tuple[str, int | None]]]]:
        base_total = sum(_CHANNEL_WEIGHT.values())
        weights: list[float] = []
        options: list[_Weighted[tuple[str, int | None]]] = []
        start_date = self._dt(self._start).date()
        for day in range(self.days):
            weekday = (start_date + timedelta(days=day)).weekday()
            base = (1.0 + 0.8 * day / self.days) * (0.3 if weekday >= 5 else 1.0)
            begin = self._start + day * DAY
            pairs: list[tuple[tuple[str, int | None], float]] = []
            extra = 0.0
            for channel, weight in _CHANNEL_WEIGHT.items():
                share = base * weight / base_total
                running = [
                    (i, spec.share)
                    for i, spec in enumerate(self._campaign_specs)
                    if spec.channel == channel
                    and spec.boost == 0
                    and self._campaign_window[i][0] <= begin < self._campaign_window[i][1]
                ]
                if channel == "organic_social":
                    running.append((-1, 0.4))
                if not running:
                    pairs.append(((channel, None), share))
                    continue
                total = sum(s for _, s in running)
                pairs.extend(
                    ((channel, i if i >= 0 else None), share * s / total) for i, s in running
                )
            for i, spec in enumerate(self._campaign_specs):
                window = self._campaign_window[i]
                if spec.boost and window[0] <= begin < window[1]:
                    pairs.append(((spec.channel, i), spec.boost * 1.4))
                    extra += spec.boost * 1.4
            weights.append(base + extra)
            options.append(_Weighted(pairs))
        # Largest-remainder apportionment: exactly `leads` leads, deterministically.
        total = sum(weights)
        exact = [self.leads * w / total for w in weights]
        counts = [int(x) for x in exact]
        short = self.leads - sum(counts)
        for day in sorted(range(self.days), key=lambda d: (counts[d] - exact[d], d))[:short]:
            counts[day] += 1
        return counts, options

    # -- leads --

    def lead_chunks(self, chunk_size: int = 1000) -> Iterator[list[DemoLead]]:
        """Every lead, oldest first, in lists of `chunk_size`; each call starts afresh."""
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        r = _rng(self.seed, "leads")
        stream = _Stream(self.leads)
        chunk: list[DemoLead] = []
        index = 0
        for day, count in enumerate(self._day_counts):
            if not count:
                continue
            begin = self._start + day * DAY
            # Most leads arrive in European afternoons / American mornings (UTC).
            times = sorted(min(86_399.0, max(0.0, r.gauss(14.5, 3.6) * 3600)) for _ in range(count))
            options = self._day_options[day]
            for offset in times:
                chunk.append(self._lead(r, stream, index, begin + offset, options))
                index += 1
                if len(chunk) >= chunk_size:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk

    def iter_leads(self, chunk_size: int = 1000) -> Iterator[DemoLead]:
        """Every lead, one at a time (still streamed)."""
        for chunk in self.lead_chunks(chunk_size):
            yield from chunk

    def _lead(
        self,
        r: random.Random,
        stream: _Stream,
        index: int,
        created: float,
        options: _Weighted[tuple[str, int | None]],
    ) -> DemoLead:
        channel, campaign = options.pick(r)
        spec = self._campaign_specs[campaign] if campaign is not None else None
        kind = spec.kind if spec else "web"

        # Who: persona, company, role.
        roll = r.random()
        persona = "buyer"
        if kind not in ("badges", "list", "partner"):
            if roll < 0.035:
                persona = "student"
            elif roll < 0.06:
                persona = "job_seeker"
            elif roll < 0.075:
                persona = "junk"
        company: DemoCompany | None = None
        if persona == "buyer" and (kind in ("badges", "list", "partner") or r.random() < 0.93):
            picker = self._emea_companies if kind == "list" else self._company_pick
            company = self.companies[picker.pick(r)]
        if company is not None and r.random() < 0.92:
            country = _COUNTRY[company.country]
            region, city = company.region, company.city
        else:
            country = _COUNTRY_PICK.pick(r)
            region, cities = r.choice(country.places)
            city = r.choice(cities)
        culture = country.culture if r.random() < 0.85 else _DIASPORA.pick(r)
        if persona == "junk":
            first, last = r.choice(_JUNK_FIRST), r.choice(_JUNK_LAST)
        else:
            first, last = r.choice(_FIRST[culture]), r.choice(_LAST[culture])
            mixed = first.display.isascii() != last.display.isascii()
            if culture in ("zh", "ja") and (
                mixed or r.random() < 0.6
            ):  # most CJK names are entered romanised, and never half and half
                first = _Name(first.ascii.capitalize(), first.ascii)
                last = _Name(last.ascii.capitalize(), last.ascii)
        seniority, department, title = self._role(r, persona, company, kind)

        personal = company is None or r.random() < 0.08
        email = self._email(r, stream, first, last, company, country.code, personal, persona)

        # Latent propensity: what sales would see as fit, plus what nobody sees.
        fit = (
            _FIT_SENIORITY[seniority]
            + _FIT_DEPARTMENT.get(department, -0.3)
            + (
                _size_fit(company.employee_count) + _INDUSTRIES[company.industry].fit
                if company
                else -0.7
            )
            + (-0.5 if personal else 0.0)
            + country.fit
            + {"buyer": 0.0, "student": -3.0, "job_seeker": -3.0, "junk": -5.0}[persona]
        )
        chan = _CHANNEL_EFFECT[channel] + (0.2 if kind == "badges" else 0.0)
        z = fit + chan + r.gauss(0.0, 0.8)
        interest = _sigmoid(0.85 * z - 0.4 + r.gauss(0.0, 0.6))

        # How they arrived.
        form = self._creation_form(r, kind, interest, persona)
        source, source_detail = self._source(kind, form, campaign)
        utm = self._utm(r, campaign)
        landing, referrer = self._urls(r, channel, kind, form, utm)
        referred_by = None
        if kind == "referral" and r.random() < 0.85:
            referred_by = stream.advocate_at(created, r)
        wants_phone = 0.3 + (0.35 if form in ("demo", "contact") or kind == "badges" else 0.0)
        phone = ""
        if persona != "junk" and r.random() < (0.85 if kind == "list" else wants_phone):
            phone = _phone(r, country.code, region)
        attributes: dict[str, str] = {}
        if form in ("demo", "contact", "trial"):
            attributes = {
                "team_size": r.choice(("1-10", "11-50", "51-200", "201-1000", "1000+")),
                "current_tool": r.choice(
                    ("Spreadsheets", "HubSpot", "Salesforce", "Pipedrive", "Homegrown", "None")
                ),
            }

        sim = _Simulation(self, r, created, interest, z, persona, company, country.code)
        sim.arrive(source, channel, form, spec, campaign)
        sim.engage()
        sim.funnel(company.employee_count if company else 1)
        if sim.advocate_since is not None:
            heapq.heappush(stream.pending_advocates, (sim.advocate_since, index))
        sim.finish()

        owner = sim.owner
        return DemoLead(
            index=index,
            created_at=self._dt(created),
            updated_at=self._dt(max(sim.last_change, sim.last_activity)),
            email=email,
            phone=phone,
            first_name=first.display,
            last_name=last.display,
            job_title=title,
            seniority=seniority,
            department=department,
            company=company.index if company else None,
            country=country.code,
            region=region,
            city=city,
            source=source,
            source_channel=channel,
            source_detail=source_detail,
            campaign=campaign,
            utm_source=utm[0],
            utm_medium=utm[1],
            utm_campaign=utm[2],
            utm_term=utm[3],
            utm_content=utm[4],
            landing_page=landing,
            referrer_url=referrer,
            referred_by=referred_by,
            owner=owner,
            lifecycle_stage=sim.stage,
            sales_status=sim.sales_status,
            temperature=sim.temperature,
            qualification=sim.qualification,
            became_subscriber_at=sim.stamp("subscriber"),
            became_lead_at=sim.stamp("lead"),
            became_mql_at=sim.stamp("mql"),
            became_sql_at=sim.stamp("sql"),
            became_opportunity_at=sim.stamp("opportunity"),
            became_customer_at=sim.stamp("customer"),
            became_advocate_at=sim.stamp("advocate"),
            became_disqualified_at=sim.stamp("disqualified"),
            last_activity_at=self._dt(sim.last_activity),
            archived=sim.archived,
            attributes=attributes,
            events=sim.demo_events(),
            transitions=sim.demo_transitions(),
            propensity=round(_sigmoid(z), 6),
            persona=persona,
        )

    def _role(
        self, r: random.Random, persona: str, company: DemoCompany | None, kind: str
    ) -> tuple[str, str, str]:
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

    def _email(
        self,
        r: random.Random,
        stream: _Stream,
        first: _Name,
        last: _Name,
        company: DemoCompany | None,
        country: str,
        personal: bool,
        persona: str,
    ) -> str:
        f, la = first.ascii or "x", last.ascii or "x"
        if personal:
            domain = _personal_domain(r, country)
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
            assert company is not None
            domain = company.domain
            local = {
                "first.last": f"{f}.{la}",
                "flast": f"{f[0]}{la}",
                "first": f,
                "firstl": f"{f}{la[0]}",
                "first_last": f"{f}_{la}",
                "last.first": f"{la}.{f}",
                "f.last": f"{f[0]}.{la}",
            }[company.email_pattern]
        local = local[:60]
        candidate = f"{local}@{domain}"
        n = 2
        while not stream.emails.add(candidate):
            # Colleagues with the same name get john.smith2; free-mail users pick numbers.
            candidate = f"{local}{n}@{domain}"
            n += r.randint(1, 40) if personal else 1
        return candidate

    def _creation_form(self, r: random.Random, kind: str, interest: float, persona: str) -> str:
        if kind in ("badges", "list", "partner", "referral", "lead_gen", "webinar"):
            return kind
        table: tuple[tuple[str, float], ...] = (
            ("ebook", 30.0),
            ("webinar", 10.0),
            ("newsletter", 12.0),
            ("contact", 4.0 + 14.0 * interest),
            ("demo", 2.0 + 22.0 * interest**1.5),
            ("trial", 3.0 + 11.0 * interest),
        )
        if persona == "job_seeker":
            table = (("newsletter", 10.0), ("contact", 8.0), ("ebook", 5.0))
        return _Weighted(table).pick(r)

    def _source(self, kind: str, form: str, campaign: int | None) -> tuple[str, str]:
        name = self.campaigns[campaign].name if campaign is not None else ""
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
        label = {
            "ebook": "Content download form",
            "webinar": "Webinar registration: Monthly product tour",
            "newsletter": "Newsletter signup",
            "contact": "Contact sales form",
            "demo": "Book a demo form",
            "trial": "Free trial signup",
        }[form]
        return "web_form", label

    def _utm(self, r: random.Random, campaign: int | None) -> tuple[str, str, str, str, str]:
        if campaign is None:
            return "", "", "", "", ""
        c, spec = self.campaigns[campaign], self._campaign_specs[campaign]
        term = r.choice(spec.terms) if spec.terms else ""
        content = r.choice(spec.contents) if spec.contents else ""
        return c.utm_source, c.utm_medium, c.utm_campaign, term, content

    def _urls(
        self,
        r: random.Random,
        channel: str,
        kind: str,
        form: str,
        utm: tuple[str, str, str, str, str],
    ) -> tuple[str, str]:
        if kind in ("badges", "list", "partner"):
            return "", ""
        path = {
            "ebook": "/ebooks/lead-scoring-playbook",
            "webinar": "/webinars",
            "newsletter": "/newsletter",
            "contact": "/contact",
            "demo": "/demo",
            "trial": "/signup",
            "lead_gen": "",
            "referral": "/refer",
        }[form]
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
            referrer = _Weighted(
                [
                    ("https://www.google.com/", 85),
                    ("https://www.bing.com/", 8),
                    ("https://duckduckgo.com/", 4),
                    ("https://www.ecosia.org/", 3),
                ]
            ).pick(r)
            if utm[0] == "bing":
                referrer = "https://www.bing.com/"
        elif channel in ("paid_social", "organic_social"):
            referrer = (
                "https://www.facebook.com/"
                if utm[0] == "facebook"
                else ("https://www.linkedin.com/")
            )
        elif channel == "referral" and utm[0] == "g2":
            referrer = "https://www.g2.com/products/brightwave/reviews"
        return landing, referrer


def _latin(name: _Name) -> _Name:
    """The name in Latin letters (CJK names romanised), for company names."""
    if all(ord(c) < 0x250 for c in name.display):
        return name
    return _Name(name.ascii.capitalize(), name.ascii)


def _personal_domain(r: random.Random, country: str) -> str:
    local = {
        "DE": ("gmx.de", "web.de", "t-online.de"),
        "CH": ("gmx.de", "proton.me"),
        "FR": ("orange.fr", "free.fr", "laposte.net"),
        "IT": ("libero.it",),
        "GB": ("yahoo.co.uk", "btinternet.com"),
        "BR": ("uol.com.br", "bol.com.br"),
        "PL": ("wp.pl", "o2.pl"),
        "IN": ("rediffmail.com",),
    }.get(country, ())
    if local and r.random() < 0.35:
        return r.choice(local)
    return _Weighted(
        [
            ("gmail.com", 60),
            ("outlook.com", 12),
            ("yahoo.com", 9),
            ("hotmail.com", 8),
            ("icloud.com", 7),
            ("proton.me", 4),
        ]
    ).pick(r)


_PHONE_TEMPLATES: dict[tuple[str, int], tuple[int, str]] = {}


def _phone(r: random.Random, country: str, region: str) -> str:
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


def _first(pair: tuple[float, int]) -> float:
    return pair[0]


class _Ev(NamedTuple):
    t: float
    type: str
    source: str
    properties: Properties


class _Tr(NamedTuple):
    t: float
    kind: str
    from_value: str
    to_value: str
    reason: str
    actor: int | None
    actor_label: str


class _Simulation:
    """One lead's life from creation to `now`: engagement first, then the funnel it earns."""

    def __init__(
        self,
        gen: DemoGenerator,
        r: random.Random,
        created: float,
        interest: float,
        z: float,
        persona: str,
        company: DemoCompany | None,
        country: str,
    ) -> None:
        self.gen, self.r, self.created, self.now = gen, r, created, gen._now
        self.interest, self.z, self.persona = interest, z, persona
        self.company, self.country = company, country
        self.events: list[_Ev] = []
        self.transitions: list[_Tr] = []
        self.stage = ""
        self.stamps: dict[str, float] = {}
        self.sales_status = "new"
        self.qualification = ""
        self.temperature = "cold"
        self.owner: int | None = None
        self.advocate_since: float | None = None
        self.archived = False
        self.last_change = created
        self.last_activity = created
        self.done: set[str] = set()
        self.stop_marketing = math.inf

    # -- events --

    def add(self, t: float, type_: str, source: str, properties: Properties) -> None:
        if t <= self.now:
            self.events.append(_Ev(t, type_, source, properties))

    def arrive(
        self, source: str, channel: str, form: str, spec: _CampaignSpec | None, campaign: int | None
    ) -> None:
        t, r = self.created, self.r
        self.add(t, "lead_created", source[:64], {"source": source, "channel": channel})
        if form in ("ebook", "lead_gen"):
            title, fmt, path = _CONTENT[0] if form == "lead_gen" else r.choice(_CONTENT)
            self.add(
                t,
                "content_download",
                "web",
                {"content": title, "format": fmt, "url": f"{SITE}{path}"},
            )
        elif form == "webinar":
            if spec is not None and spec.kind == "webinar" and campaign is not None:
                # A campaign webinar: live at 16:00 UTC on the campaign's last day.
                name = self.gen.campaigns[campaign].name.removeprefix("Webinar: ")
                when = self.gen._campaign_window[campaign][1] - DAY + 16 * 3600
            else:
                name, when = "Monthly product tour", t + r.uniform(2, 12) * DAY
            self._webinar(t, name, max(when, t + 3600))
        elif form in ("demo", "trial"):
            type_ = "demo_request" if form == "demo" else "trial_signup"
            self._hand_raise(t, type_)
        elif form in ("contact", "newsletter", "referral", "partner"):
            name = {
                "contact": "Contact sales",
                "newsletter": "Newsletter signup",
                "referral": "Customer referral",
                "partner": "Partner lead registration",
            }[form]
            self.add(t, "form_submitted", "web", {"form": name, "url": f"{SITE}/{form}"})
        stage = "subscriber" if form == "newsletter" else "lead"
        actor = _MARKETER if source == "import" else None
        self.transition(
            t,
            "stage",
            stage,
            f"created from {source}",
            actor,
            "user" if actor is not None else source,
        )

    def _webinar(self, t: float, name: str, when: float) -> None:
        self.add(t, "webinar_registered", "webinar", {"webinar": name})
        if self.r.random() < 0.3 + 0.4 * self.interest:
            minutes = int(10 + 50 * self.r.random() * (0.5 + self.interest))
            self.add(when, "webinar_attended", "webinar", {"webinar": name, "minutes": minutes})

    def _hand_raise(self, t: float, type_: str) -> None:
        if type_ in self.done:
            return
        self.done.add(type_)
        if type_ == "demo_request":
            self.add(t, type_, "web", {"form": "Book a demo", "url": f"{SITE}/demo"})
        elif type_ == "trial_signup":
            plan = self.r.choice(("Team", "Business"))
            self.add(t, type_, "product", {"plan": f"{plan} trial", "url": f"{SITE}/signup"})
        else:
            plan, low, high = self.r.choice(_PLANS)
            self.add(
                t,
                type_,
                "web",
                {"plan": plan, "seats": self.r.randint(low, high), "url": f"{SITE}/pricing/quote"},
            )

    def engage(self) -> None:
        """Website sessions and marketing emails from creation until `now`."""
        r, interest, now = self.r, self.interest, self.now
        if self.persona == "junk":
            return
        # Sessions: a decaying stream, longer and denser for interested leads.
        t = self.created
        gap = SESSION_GAP_DAYS / (0.15 + 1.6 * interest) * DAY
        churn = 0.35 - 0.28 * interest
        for _ in range(40):
            t += r.expovariate(1.0) * gap
            # People browse in the daytime (UTC afternoons: Europe and the Americas awake).
            t = max(t, (t // DAY) * DAY + min(86_000.0, max(0.0, r.gauss(14.5, 4.0) * 3600)))
            if t > now:
                break
            self._session(t)
            gap *= 1.3
            if r.random() < churn:
                break
        # Emails: welcome series weekly, then fortnightly, then the monthly newsletter.
        t = self.created + 3600
        bounce = 0.015 if self.company else 0.03
        for n in range(60):
            if t > now:
                break
            name = _NURTURE[n] if n < len(_NURTURE) else self.gen.newsletter(t)
            props: Properties = {
                "email": name,
                "campaign": "welcome-series" if n < 6 else "monthly-newsletter",
            }
            if n == 0 and r.random() < bounce:
                self.add(t, "email_bounced", "email", {**props, "bounce": "hard"})
                break
            if r.random() < 0.1 + 0.35 * interest:
                opened = t + r.expovariate(1.0) * 8 * 3600
                self.add(opened, "email_opened", "email", props)
                if r.random() < 0.08 + 0.35 * interest:
                    self.add(
                        opened + r.uniform(5, 120),
                        "email_clicked",
                        "email",
                        {**props, "url": f"{SITE}{r.choice(_PAGES.items)[0]}"},
                    )
            if r.random() < 0.004 + 0.03 * (1 - interest):
                self.add(
                    t + r.uniform(60, 3 * DAY),
                    "unsubscribed",
                    "email",
                    {**props, "list": "marketing"},
                )
                break
            t += (7 if n < 6 else 14 if n < 10 else 30) * DAY * r.uniform(0.9, 1.1)

    def _session(self, t: float) -> None:
        r, interest = self.r, self.interest
        pages = 1 + int(r.expovariate(1.0) * (0.4 + 1.6 * interest))
        for _ in range(min(pages, 12)):
            page = (
                _CAREERS if self.persona == "job_seeker" and r.random() < 0.4 else (_PAGES.pick(r))
            )
            self.add(t, "page_view", "web", {"url": f"{SITE}{page[0]}", "title": page[1]})
            t += r.uniform(15, 240)
        good_fit = self.z > 0
        if r.random() < 0.05 + 0.4 * interest * (1.0 if good_fit else 0.5):
            self.add(t, "pricing_page_view", "web", {"url": f"{SITE}/pricing", "title": "Pricing"})
            t += r.uniform(15, 120)
        if r.random() < 0.06 + 0.1 * interest:
            title, fmt, path = r.choice(_CONTENT)
            self.add(
                t,
                "content_download",
                "web",
                {"content": title, "format": fmt, "url": f"{SITE}{path}"},
            )
        if r.random() < 0.03 + 0.05 * interest:
            self._webinar(t, "Monthly product tour", t + r.uniform(2, 12) * DAY)
        if r.random() < 0.002 + 0.07 * interest**2 * (1.0 if self.z > -0.5 else 0.3):
            self._hand_raise(t + 30, "demo_request")
        if r.random() < 0.003 + 0.05 * interest**2:
            self._hand_raise(t + 40, "trial_signup")
        if "contact" not in self.done and r.random() < 0.004 + 0.03 * interest:
            self.done.add("contact")
            self.add(
                t + 20, "form_submitted", "web", {"form": "Contact sales", "url": f"{SITE}/contact"}
            )

    # -- the funnel --

    def transition(
        self,
        t: float,
        kind: str,
        to: str,
        reason: str,
        actor: int | None = None,
        label: str = "system",
    ) -> None:
        current = {
            "stage": self.stage,
            "sales_status": self.sales_status,
            "qualification": self.qualification,
            "temperature": self.temperature,
        }[kind]
        if current == to or t > self.now:
            return
        self.transitions.append(_Tr(t, kind, current, to, reason, actor, label))
        self.last_change = max(self.last_change, t)
        if kind == "stage":
            self.stage = to
            self.stamps.setdefault(to, t)
        elif kind == "sales_status":
            self.sales_status = to
        elif kind == "qualification":
            self.qualification = to
        else:
            self.temperature = to

    def behaviour(self, until: float) -> float:
        """What the lead did before `until`, on the logit scale sales decisions use."""
        total = pricing = downloads = clicks = 0.0
        for e in self.events:
            if e.t > until:
                continue
            kind = e.type
            if kind == "demo_request":
                total += 0.9
            elif kind == "trial_signup":
                total += 0.6
            elif kind == "quote_request":
                total += 0.5
            elif kind == "pricing_page_view":
                pricing += 1
            elif kind == "webinar_attended":
                total += 0.35
            elif kind == "content_download":
                downloads += 1
            elif kind == "email_clicked":
                clicks += 1
            elif kind == "unsubscribed":
                total -= 0.7
            elif kind == "email_bounced":
                total -= 1.0
            elif kind == "page_view" and e.properties.get("url") == f"{SITE}/careers":
                total -= 0.3
        return total + 0.15 * min(pricing, 4) + 0.1 * min(downloads, 3) + 0.05 * min(clicks, 5)

    def _rep(self) -> int:
        territory = _COUNTRY[self.country].territory
        if territory == 0 and self.company and self.company.employee_count >= 1000:
            return 1
        return territory

    def funnel(self, employees: int) -> None:
        r, now = self.r, self.now
        self.events.sort(key=lambda e: e.t)
        # Subscriber -> lead on the first conversion; qualification iql on the first form.
        score = max(0, min(40, round(20 + 12 * (self.z - 0.3))))
        mql_at: float | None = None
        mql_reason = ""
        bad = self.persona != "buyer"
        # Marketing operations cleans up junk and obvious non-buyers, unless they raise a
        # hand first (then sales sees them).
        cleanup = math.inf
        if bad and r.random() < {"junk": 0.9, "student": 0.5, "job_seeker": 0.5}[self.persona]:
            cleanup = self.created + r.uniform(0.5, 10) * DAY
        for e in self.events:
            if e.t > cleanup:
                break
            if e.type in _CONVERTING:
                if self.qualification == "":
                    self.transition(
                        e.t, "qualification", "iql", f"gave details: {e.type}", label="scoring"
                    )
                if self.stage == "subscriber" and e.t > self.created:
                    self.transition(e.t, "stage", "lead", f"converted: {e.type}")
            score += POINTS[e.type]
            if (
                mql_at is None
                and self.stage == "lead"
                and (e.type in HAND_RAISERS or score >= MQL_THRESHOLD)
            ):
                mql_at = e.t + 60
                mql_reason = (
                    f"hand-raiser: {e.type}"
                    if e.type in HAND_RAISERS
                    else (f"score {score} reached the MQL threshold ({MQL_THRESHOLD})")
                )
                if self.persona == "buyer" or e.type in HAND_RAISERS:
                    break
                mql_at = None  # students and job seekers only qualify by raising a hand
        if bad and mql_at is None:
            if cleanup < math.inf:
                t = cleanup
                reason = {"junk": "junk data", "student": "student", "job_seeker": "job applicant"}[
                    self.persona
                ]
                self.transition(
                    t, "stage", "disqualified", f"disqualified: {reason}", _MARKETER, "user"
                )
                self.transition(t, "sales_status", "unqualified", reason, _MARKETER, "user")
                self._stop_marketing(t)
            return
        if mql_at is None or mql_at > now:
            return
        self.transition(mql_at, "stage", "mql", mql_reason, label="scoring")
        self.transition(mql_at, "qualification", "mql", mql_reason, label="scoring")

        # Sales reviews the MQL.
        rep = self._rep()
        t = mql_at + max(600.0, r.lognormvariate(math.log(0.8 * DAY), 1.0))
        if t > now:
            return
        if bad:
            reason = "student" if self.persona == "student" else "job applicant"
            self.transition(
                t, "stage", "disqualified", f"disqualified by sales: {reason}", rep, "user"
            )
            self.transition(t, "sales_status", "unqualified", reason, rep, "user")
            self._stop_marketing(t)
            return
        zb = self.z + self.behaviour(t)
        u = r.random()
        accept = _sigmoid(zb + ACCEPT_OFFSET)
        if u >= accept:
            if u < accept + (1 - accept) * 0.45:
                why = r.choice(_DISQUALIFY_REASONS)
                self.transition(
                    t, "stage", "disqualified", f"disqualified by sales: {why}", rep, "user"
                )
                self.transition(t, "sales_status", "unqualified", why, rep, "user")
                self._stop_marketing(t)
            else:
                self.transition(t, "sales_status", "attempting", "first call attempt", rep, "user")
                later = t + r.uniform(7, 15) * DAY
                self.transition(
                    later,
                    "stage",
                    "recycled",
                    "recycled: no response after five attempts",
                    rep,
                    "user",
                )
            return
        self.owner = rep
        reason = r.choice(_ACCEPT_REASONS)
        self.transition(t, "stage", "sql", f"accepted by sales: {reason}", rep, "user")
        self.transition(t, "qualification", "sql", f"accepted by sales: {reason}", rep, "user")
        self.transition(t, "sales_status", "attempting", "assigned and called", rep, "user")
        connected = t + max(1800.0, r.lognormvariate(math.log(1.5 * DAY), 0.8))
        self.transition(connected, "sales_status", "connected", "first conversation", rep, "user")
        decided = connected + r.uniform(2, 14) * DAY
        if decided > now:
            return
        if r.random() >= _sigmoid(self.z + self.behaviour(decided) + OPPORTUNITY_OFFSET):
            if r.random() < 0.5:
                why = r.choice(_DISQUALIFY_REASONS)
                self.transition(
                    decided, "stage", "disqualified", f"disqualified by sales: {why}", rep, "user"
                )
                self.transition(decided, "sales_status", "unqualified", why, rep, "user")
                self._stop_marketing(decided)
            else:
                self.transition(
                    decided, "stage", "recycled", "recycled: not a priority yet", rep, "user"
                )
            return
        opened = decided
        self.transition(
            opened, "stage", "opportunity", "opportunity opened: discovery done", rep, "user"
        )

        # The deal: bigger companies take longer; winners ask for quotes more often.
        cycle = r.lognormvariate(math.log(30) + 0.12 * math.log(max(employees, 1) / 50), 0.5)
        closes = opened + min(200.0, max(7.0, cycle)) * DAY
        win = r.random() < _sigmoid(self.z + self.behaviour(opened) + WIN_OFFSET)
        if r.random() < (0.75 if win else 0.35):
            self._hand_raise(opened + r.uniform(0.2, 0.8) * (closes - opened), "quote_request")
        if "trial_signup" not in self.done and r.random() < (0.3 if win else 0.15):
            self._hand_raise(opened + r.uniform(0.05, 0.4) * (closes - opened), "trial_signup")
        if closes > now:
            return
        if win:
            plan, low, high = r.choice(_PLANS)
            seats = r.randint(low, high)
            self.transition(
                closes, "stage", "customer", f"closed won: {plan} plan, {seats} seats", rep, "user"
            )
            self.transition(closes, "sales_status", "won", "closed won", rep, "user")
            self._stop_marketing(closes)
            if r.random() < 0.25:
                since = closes + r.uniform(30, 150) * DAY
                if since <= now:
                    self.transition(
                        since, "stage", "advocate", "agreed to be a reference customer", rep, "user"
                    )
                    self.advocate_since = since
        else:
            why = r.choice(_LOSS_REASONS)
            self.transition(closes, "sales_status", "lost", f"closed lost: {why}", rep, "user")
            if r.random() < 0.6:
                self.transition(
                    closes + r.uniform(7, 30) * DAY,
                    "stage",
                    "recycled",
                    f"closed lost ({why}); back to nurture",
                    rep,
                    "user",
                )

    def _stop_marketing(self, t: float) -> None:
        self.stop_marketing = min(self.stop_marketing, t)

    def finish(self) -> None:
        """Drop marketing after a lead is won or disqualified, then derive temperature,
        last activity and archiving from what is left."""
        if self.stop_marketing < math.inf:
            cut = self.stop_marketing
            self.events = [e for e in self.events if e.t <= cut or e.type == "page_view"]
        self.events.sort(key=lambda e: e.t)
        self.last_activity = self.events[-1].t
        self._temperatures()
        self.transitions.sort(key=lambda x: x.t)
        r = self.r
        if self.stage == "disqualified":
            since = self.stamps["disqualified"]
            self.archived = self.now - since > 45 * DAY and r.random() < 0.35
        elif any(e.type == "email_bounced" for e in self.events) and self.temperature == "cold":
            self.archived = self.now - self.created > 120 * DAY and r.random() < 0.3

    def _temperatures(self) -> None:
        """Hot/warm/cold from the points scored in the last 30 days, stepping at every
        event and at every moment an event leaves the window."""
        steps = [(e.t, POINTS[e.type]) for e in self.events if POINTS[e.type]]
        limit = self.now - _WINDOW
        steps += [(t + _WINDOW, -p) for t, p in steps if t <= limit]
        steps.sort(key=_first)
        score = 0
        last = len(steps) - 1
        for k, (at, delta) in enumerate(steps):
            score += delta
            if k < last and steps[k + 1][0] == at:
                continue  # settle every change at this instant before reading it
            to = "hot" if score >= _HOT else "warm" if score >= _WARM else "cold"
            if to != self.temperature:
                self.transition(
                    at, "temperature", to, f"activity score over 30 days: {score}", label="scoring"
                )

    def stamp(self, stage: str) -> datetime | None:
        t = self.stamps.get(stage)
        return None if t is None else self.gen._dt(t)

    def demo_events(self) -> tuple[DemoEvent, ...]:
        dt = self.gen._dt
        return tuple(DemoEvent(e.type, dt(e.t), e.source, e.properties) for e in self.events)

    def demo_transitions(self) -> tuple[DemoTransition, ...]:
        dt = self.gen._dt
        return tuple(
            DemoTransition(
                x.kind, x.from_value, x.to_value, dt(x.t), x.reason, x.actor, x.actor_label
            )
            for x in self.transitions
        )
