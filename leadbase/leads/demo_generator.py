"""Realistic, deterministic demo data: the pure, streaming generator (no Django here).

`DemoGenerator(leads=..., seed=..., now=...)` builds the small tables up front (`users`,
`campaigns`, `companies`: about leads/15 companies, at least 300) and streams the leads with
their events and transitions from `lead_chunks()`, a generator of lists, so a million leads
and ten million events never sit in memory together. The same arguments give the same data,
value for value: every draw comes from `random.Random` streams seeded from `seed` (string
seeds are hashed with SHA-512 by `random`, so PYTHONHASHSEED plays no part).

Outcomes follow fit and behaviour, as `demo_simulation` simulates them (docs/demo-data.md); the
word lists and weights are in `demo_vocabulary` (and `demo_vocabulary.toml`).
`leadbase.leads.demo_data.load_demo_data` writes this into the database.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from . import demo_vocabulary as vocab
from .demo_simulation import (
    ACCEPT_OFFSET,
    HAND_RAISERS,
    MQL_THRESHOLD,
    OPPORTUNITY_OFFSET,
    SESSION_GAP_DAYS,
    WIN_OFFSET,
    Simulation,
    creation_form,
)
from .demo_vocabulary import (
    CHANNELS,
    DAY,
    EMEA,
    EVENT_TYPES,
    PERSONAL_EMAIL_DOMAINS,
    POINTS,
    SITE,
    STAFF_DOMAIN,
    Properties,
    Weighted,
    ascii_slug,
)

__all__ = [
    "ACCEPT_OFFSET", "CHANNELS", "DAY", "DEFAULT_DAYS", "EMEA", "EVENT_TYPES", "HAND_RAISERS",
    "LEADS_PER_COMPANY", "MIN_COMPANIES", "MQL_THRESHOLD", "OPPORTUNITY_OFFSET",
    "PERSONAL_EMAIL_DOMAINS", "POINTS", "SESSION_GAP_DAYS", "SITE", "STAFF_DOMAIN", "WIN_OFFSET",
    "DemoCampaign", "DemoCompany", "DemoEvent", "DemoGenerator", "DemoLead", "DemoTransition",
    "DemoUser", "Properties", "ascii_slug", "company_count",
]  # fmt: skip

DEFAULT_DAYS = 270  # about nine months of history
MIN_COMPANIES = 300
LEADS_PER_COMPANY = 15


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


_USERS = tuple(DemoUser(**user, email=f"{user['username']}@{STAFF_DOMAIN}") for user in vocab.STAFF)


def company_count(leads: int) -> int:
    """How many companies go with `leads` leads: leads/15, at least 300."""
    return max(MIN_COMPANIES, leads // LEADS_PER_COMPANY)


# --- the generator --------------------------------------------------------------------------


class _Stream:
    """What one pass over the leads carries from lead to lead: bounded, except the compact
    email set (8 bytes a slot, sized for the lead count)."""

    def __init__(self, leads: int) -> None:
        self.emails = vocab.HashSet(leads)
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
        self._company_pick = Weighted([(c.index, c.employee_count**0.45) for c in self.companies])
        self._emea_companies = Weighted(
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
            name = f"Monthly newsletter - {vocab.MONTHS[when.month - 1]} {when.year}"
            self._newsletters[day] = name
        return name

    # -- campaigns --

    def _make_campaigns(self) -> tuple[DemoCampaign, ...]:
        r = vocab.rng(self.seed, "campaigns")
        start_day = self._dt(self._start).date()
        self._campaign_window: list[tuple[float, float]] = []
        self._campaign_specs = vocab.CAMPAIGN_SPECS
        out = []
        for index, spec in enumerate(vocab.CAMPAIGN_SPECS):
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
        r = vocab.rng(self.seed, "companies")
        used: set[str] = set()
        out = []
        for index in range(count):
            country = vocab.COUNTRY_PICK.pick(r)
            industry = vocab.INDUSTRY_PICK.pick(r)
            info = vocab.INDUSTRIES[industry]
            employees = int(
                min(250_000, max(1, r.lognormvariate(math.log(45) + info.size_shift, 1.6)))
            )
            region, cities = r.choice(country.places)
            city = r.choice(cities)
            name, slug_options = vocab.company_name(r, country, industry, city)
            domain = vocab.unique_domain(r, slug_options, country.code, used)
            revenue: Decimal | None = None
            if info.revenue_per_employee:
                value = employees * info.revenue_per_employee * r.lognormvariate(0, 0.45)
                revenue = Decimal(max(1000, round(value, -3))).quantize(Decimal("0.01"))
            pattern = vocab.EMAIL_PATTERNS.pick(r)
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

    def _plan_days(self) -> tuple[list[int], list[Weighted[tuple[str, int | None]]]]:
        base_total = sum(vocab.CHANNEL_WEIGHT.values())
        weights: list[float] = []
        options: list[Weighted[tuple[str, int | None]]] = []
        start_date = self._dt(self._start).date()
        for day in range(self.days):
            weekday = (start_date + timedelta(days=day)).weekday()
            base = (1.0 + 0.8 * day / self.days) * (0.3 if weekday >= 5 else 1.0)
            begin = self._start + day * DAY
            pairs: list[tuple[tuple[str, int | None], float]] = []
            extra = 0.0
            for channel, weight in vocab.CHANNEL_WEIGHT.items():
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
            options.append(Weighted(pairs))
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
        r = vocab.rng(self.seed, "leads")
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
        options: Weighted[tuple[str, int | None]],
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
            country = vocab.COUNTRY[company.country]
            region, city = company.region, company.city
        else:
            country = vocab.COUNTRY_PICK.pick(r)
            region, cities = r.choice(country.places)
            city = r.choice(cities)
        first, last = vocab.person_name(r, country.culture, persona)
        seniority, department, title = vocab.role(r, persona, company, kind)

        personal = company is None or r.random() < 0.08
        work = None if personal or company is None else (company.domain, company.email_pattern)
        email = vocab.email_address(r, stream.emails, first, last, work, country.code, persona)

        # Latent propensity: what sales would see as fit, plus what nobody sees.
        fit = vocab.fit(seniority, department, company, personal, country, persona)
        chan = vocab.CHANNEL_EFFECT[channel] + (0.2 if kind == "badges" else 0.0)
        z = fit + chan + r.gauss(0.0, 0.8)
        interest = vocab.sigmoid(0.85 * z - 0.4 + r.gauss(0.0, 0.6))

        # How they arrived.
        form = creation_form(r, kind, interest, persona)
        name = self.campaigns[campaign].name if campaign is not None else ""
        source, source_detail = vocab.lead_source(kind, form, name)
        utm = self._utm(r, campaign)
        landing, referrer = vocab.landing_urls(r, channel, kind, form, utm)
        referred_by = None
        if kind == "referral" and r.random() < 0.85:
            referred_by = stream.advocate_at(created, r)
        wants_phone = 0.3 + (0.35 if form in ("demo", "contact") or kind == "badges" else 0.0)
        phone = ""
        if persona != "junk" and r.random() < (0.85 if kind == "list" else wants_phone):
            phone = vocab.phone_number(r, country.code, region)
        attributes: dict[str, str] = {}
        if form in ("demo", "contact", "trial"):
            attributes = {key: r.choice(answers) for key, answers in vocab.FORM_ANSWERS.items()}

        sim = Simulation(self, r, created, interest, z, persona, company, country.code)
        sim.arrive(source, channel, form, spec, campaign)
        sim.engage()
        sim.funnel(company.employee_count if company else 1)
        if sim.advocate_since is not None:
            heapq.heappush(stream.pending_advocates, (sim.advocate_since, index))
        sim.finish()

        owner = sim.owner
        dt = self._dt
        became = {stage: dt(t) for stage, t in sim.stamps.items()}
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
            became_subscriber_at=became.get("subscriber"),
            became_lead_at=became.get("lead"),
            became_mql_at=became.get("mql"),
            became_sql_at=became.get("sql"),
            became_opportunity_at=became.get("opportunity"),
            became_customer_at=became.get("customer"),
            became_advocate_at=became.get("advocate"),
            became_disqualified_at=became.get("disqualified"),
            last_activity_at=self._dt(sim.last_activity),
            archived=sim.archived,
            attributes=attributes,
            events=tuple(DemoEvent(e.type, dt(e.t), e.source, e.properties) for e in sim.events),
            transitions=tuple(
                DemoTransition(
                    x.kind, x.from_value, x.to_value, dt(x.t), x.reason, x.actor, x.actor_label
                )
                for x in sim.transitions
            ),
            propensity=round(vocab.sigmoid(z), 6),
            persona=persona,
        )

    def _utm(self, r: random.Random, campaign: int | None) -> tuple[str, str, str, str, str]:
        if campaign is None:
            return "", "", "", "", ""
        c, spec = self.campaigns[campaign], self._campaign_specs[campaign]
        term = r.choice(spec.terms) if spec.terms else ""
        content = r.choice(spec.contents) if spec.contents else ""
        return c.utm_source, c.utm_medium, c.utm_campaign, term, content
