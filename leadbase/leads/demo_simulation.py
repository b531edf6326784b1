"""One demo lead's life, simulated (no Django here): what it does, and the funnel it earns.

Outcomes follow fit and behaviour (docs/demo-data.md): a latent propensity
`z = fit + channel + hidden` (seniority, company size, industry, department, personal address,
country; referral/event/partner better, paid social and bought lists worse; plus unobserved
noise) drives how much a lead engages, and sales decisions use `z` plus what the lead actually
did (demo, trial and quote requests, pricing views raise it; unsubscribes, bounces, careers
pages lower it). A model trained on the stored fields and events finds real, imperfect signal.
Times here are POSIX seconds; `demo_generator` makes `DemoEvent`s and `DemoTransition`s of them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from . import demo_vocabulary as vocab
from .demo_vocabulary import (
    DAY,
    POINTS,
    SITE,
    CampaignSpec,
    Company,
    Properties,
    Weighted,
    sigmoid,
)

MQL_THRESHOLD = 80
# Logit offsets of the sales decisions (sigmoid(z + behaviour + offset)), tuned so that about
# 5-10% of leads become customers within the window.
ACCEPT_OFFSET = -1.5
OPPORTUNITY_OFFSET = -0.8
WIN_OFFSET = -2.0
SESSION_GAP_DAYS = 16.0

HAND_RAISERS = frozenset({"demo_request", "trial_signup", "quote_request"})
_CONVERTING = frozenset({"content_download", "webinar_registered", "form_submitted", *HAND_RAISERS})
_HOT, _WARM, _WINDOW = 35, 10, 30 * DAY


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class Host(Protocol):
    """What a simulation reads from the generator that runs it (a DemoGenerator)."""

    _now: float
    _campaign_window: list[tuple[float, float]]

    @property
    def campaigns(self) -> Sequence[_Named]: ...

    def newsletter(self, t: float) -> str: ...


def creation_form(r: random.Random, kind: str, interest: float, persona: str) -> str:
    """The form (or import) that created a lead of this campaign `kind` and `interest`."""
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
    return Weighted(table).pick(r)


def _first(pair: tuple[float, int]) -> float:
    return pair[0]


class Event(NamedTuple):
    t: float
    type: str
    source: str
    properties: Properties


class Transition(NamedTuple):
    t: float
    kind: str
    from_value: str
    to_value: str
    reason: str
    actor: int | None
    actor_label: str


class Simulation:
    """One lead's life from creation to `now`: engagement first, then the funnel it earns."""

    def __init__(
        self,
        gen: Host,
        r: random.Random,
        created: float,
        interest: float,
        z: float,
        persona: str,
        company: Company | None,
        country: str,
    ) -> None:
        self.gen, self.r, self.created, self.now = gen, r, created, gen._now
        self.interest, self.z, self.persona = interest, z, persona
        self.company, self.country = company, country
        self.events: list[Event] = []
        self.transitions: list[Transition] = []
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
            self.events.append(Event(t, type_, source, properties))

    def arrive(
        self, source: str, channel: str, form: str, spec: CampaignSpec | None, campaign: int | None
    ) -> None:
        t, r = self.created, self.r
        self.add(t, "lead_created", source[:64], {"source": source, "channel": channel})
        if form in ("ebook", "lead_gen"):
            title, fmt, path = vocab.CONTENT[0] if form == "lead_gen" else r.choice(vocab.CONTENT)
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
        actor = vocab.MARKETER if source == "import" else None
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
            plan, low, high = self.r.choice(vocab.PLANS)
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
            name = vocab.NURTURE[n] if n < len(vocab.NURTURE) else self.gen.newsletter(t)
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
                        {**props, "url": f"{SITE}{r.choice(vocab.PAGES.items)[0]}"},
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
                vocab.CAREERS
                if self.persona == "job_seeker" and r.random() < 0.4
                else (vocab.PAGES.pick(r))
            )
            self.add(t, "page_view", "web", {"url": f"{SITE}{page[0]}", "title": page[1]})
            t += r.uniform(15, 240)
        good_fit = self.z > 0
        if r.random() < 0.05 + 0.4 * interest * (1.0 if good_fit else 0.5):
            self.add(t, "pricing_page_view", "web", {"url": f"{SITE}/pricing", "title": "Pricing"})
            t += r.uniform(15, 120)
        if r.random() < 0.06 + 0.1 * interest:
            title, fmt, path = r.choice(vocab.CONTENT)
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
        self.transitions.append(Transition(t, kind, current, to, reason, actor, label))
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
        territory = vocab.COUNTRY[self.country].territory
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
                    t, "stage", "disqualified", f"disqualified: {reason}", vocab.MARKETER, "user"
                )
                self.transition(t, "sales_status", "unqualified", reason, vocab.MARKETER, "user")
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
        accept = sigmoid(zb + ACCEPT_OFFSET)
        if u >= accept:
            if u < accept + (1 - accept) * 0.45:
                why = r.choice(vocab.DISQUALIFY_REASONS)
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
        reason = r.choice(vocab.ACCEPT_REASONS)
        self.transition(t, "stage", "sql", f"accepted by sales: {reason}", rep, "user")
        self.transition(t, "qualification", "sql", f"accepted by sales: {reason}", rep, "user")
        self.transition(t, "sales_status", "attempting", "assigned and called", rep, "user")
        connected = t + max(1800.0, r.lognormvariate(math.log(1.5 * DAY), 0.8))
        self.transition(connected, "sales_status", "connected", "first conversation", rep, "user")
        decided = connected + r.uniform(2, 14) * DAY
        if decided > now:
            return
        if r.random() >= sigmoid(self.z + self.behaviour(decided) + OPPORTUNITY_OFFSET):
            if r.random() < 0.5:
                why = r.choice(vocab.DISQUALIFY_REASONS)
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
        win = r.random() < sigmoid(self.z + self.behaviour(opened) + WIN_OFFSET)
        if r.random() < (0.75 if win else 0.35):
            self._hand_raise(opened + r.uniform(0.2, 0.8) * (closes - opened), "quote_request")
        if "trial_signup" not in self.done and r.random() < (0.3 if win else 0.15):
            self._hand_raise(opened + r.uniform(0.05, 0.4) * (closes - opened), "trial_signup")
        if closes > now:
            return
        if win:
            plan, low, high = r.choice(vocab.PLANS)
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
            why = r.choice(vocab.LOSS_REASONS)
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
