"""Load realistic, deterministic demo data into the database.

The data comes from the pure generator in `leadbase.leads.demo_generator` (see
docs/demo-data.md). This module only writes it: `load_demo_data` bulk-inserts users,
companies, campaigns, then leads with their events and transitions, one transaction per
batch of leads, keeping memory flat however many leads are asked for.

It bypasses `lead_upsert` on purpose (the generated data is already clean, and one upsert per
lead would take minutes), but stores exactly what `lead_upsert` would: lower-case emails,
E.164 phones, `search_text`, the `became_<stage>_at` stamps, a stage `LifecycleTransition`
for every stage change (plus qualification, temperature and sales-status ones) and a
`lead_created` event at creation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models, transaction

from leadbase.accounts.models import User

from .demo_generator import DemoGenerator, DemoLead
from .merge_rules import LEAD_FIELDS, name_key_for, search_text_for
from .models import STAGE_TIMESTAMP_FIELD, Campaign, Company, Event, Lead, LifecycleTransition

__all__ = ["DemoSummary", "load_demo_data"]

Progress = Callable[[int, int], None]
_EVENT_FLUSH = 10_000  # events (and transitions) held before each insert
_PIECE = 1024  # rows per INSERT at most; remainders go in powers of two (see _bulk_insert)


@dataclass(frozen=True)
class DemoSummary:
    """What a call to load_demo_data left in the database.

    After a load: the rows it wrote (`users` counts the demo users, new or already there).
    When the database already had leads (`already_loaded`): the table counts as they are,
    `users` being every user.
    """

    companies: int
    campaigns: int
    leads: int
    events: int
    transitions: int
    users: int
    already_loaded: bool = False


def load_demo_data(
    *,
    leads: int = 5000,
    seed: int = 7,
    progress: Progress | None = None,
    batch_size: int = 5000,
    now: datetime | None = None,
    password: str | None = None,
) -> DemoSummary:
    """Write `leads` demo leads (and their companies, campaigns, events, transitions and the
    demo users) unless the database already has leads, in which case nothing is written.

    `progress(done, total)` is called after each batch of `batch_size` leads. `now` is the
    end of the generated history (default: today, midnight UTC). Demo users get `password`,
    or an unusable password when it is None. Not for use while other code in the same process
    creates leads, companies, campaigns or events: during the load their `created_at` and
    `updated_at` are taken as given instead of being set to the current time.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if leads < 0:
        raise ValueError("leads must be zero or more")
    if Lead.objects.exists():
        return _existing()
    gen = DemoGenerator(leads=leads, seed=seed, now=now)
    with _given_timestamps():
        with transaction.atomic():
            user_ids = _load_users(gen, password)
            company_ids = _load_companies(gen, batch_size)
            campaign_ids = _load_campaigns(gen)
        loader = _LeadLoader(gen, user_ids, company_ids, campaign_ids, batch_size)
        done = 0
        for chunk in gen.lead_chunks(batch_size):
            with transaction.atomic():
                loader.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, leads)
    return DemoSummary(
        companies=len(company_ids),
        campaigns=len(campaign_ids),
        leads=done,
        events=loader.events,
        transitions=loader.transitions,
        users=len(user_ids),
    )


def _existing() -> DemoSummary:
    return DemoSummary(
        companies=Company.objects.count(),
        campaigns=Campaign.objects.count(),
        leads=Lead.objects.count(),
        events=Event.objects.count(),
        transitions=LifecycleTransition.objects.count(),
        users=User.objects.count(),
        already_loaded=True,
    )


# Timestamps that Django sets to "now" on insert (auto_now / auto_now_add): demo rows carry
# their own history, so these are switched off for the duration of a load.
_STAMPED: tuple[tuple[type[models.Model], str], ...] = (
    (Lead, "created_at"),
    (Lead, "updated_at"),
    (Company, "created_at"),
    (Company, "updated_at"),
    (Campaign, "created_at"),
    (Campaign, "updated_at"),
    (Event, "created_at"),
)


@contextmanager
def _given_timestamps() -> Iterator[None]:
    saved: list[tuple[models.DateTimeField[datetime, datetime], bool, bool]] = []
    for model, name in _STAMPED:
        field = model._meta.get_field(name)
        assert isinstance(field, models.DateTimeField)
        saved.append((field, field.auto_now, field.auto_now_add))
    try:
        for field, _, _ in saved:
            field.auto_now = field.auto_now_add = False
        yield
    finally:
        for field, auto_now, auto_now_add in saved:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


def _load_users(gen: DemoGenerator, password: str | None) -> list[int]:
    """The demo users' ids, in DemoGenerator.users order; existing usernames are kept as
    they are (their role and password are not touched)."""
    joined = gen.now - timedelta(days=gen.days + 90)
    existing = {u.username: u.pk for u in User.objects.filter(username__in=_usernames(gen))}
    ids = []
    for demo in gen.users:
        if demo.username in existing:
            ids.append(existing[demo.username])
            continue
        user = User(
            username=demo.username,
            first_name=demo.first_name,
            last_name=demo.last_name,
            email=demo.email,
            role=demo.role,
            date_joined=joined,
        )
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save()
        ids.append(user.pk)
    return ids


def _usernames(gen: DemoGenerator) -> list[str]:
    return [u.username for u in gen.users]


def _load_companies(gen: DemoGenerator, batch_size: int) -> list[int]:
    """Company ids in DemoGenerator.companies order; a domain already present is reused."""
    ids: list[int] = []
    companies = gen.companies
    for start in range(0, len(companies), batch_size):
        batch = companies[start : start + batch_size]
        known = dict(
            Company.objects.filter(domain__in=[c.domain for c in batch]).values_list("domain", "pk")
        )
        new = [
            Company(
                name=c.name,
                domain=c.domain,
                industry=c.industry,
                employee_count=c.employee_count,
                annual_revenue=c.annual_revenue,
                country=c.country,
                region=c.region,
                city=c.city,
                created_at=c.created_at,
                updated_at=c.created_at,
            )
            for c in batch
            if c.domain not in known
        ]
        Company.objects.bulk_create(new, batch_size=batch_size)
        known.update((c.domain, c.pk) for c in new)
        ids.extend(known[c.domain] for c in batch)
    return ids


def _load_campaigns(gen: DemoGenerator) -> list[int]:
    """Campaign ids in DemoGenerator.campaigns order; a name already present is reused."""
    known = dict(
        Campaign.objects.filter(name__in=[c.name for c in gen.campaigns]).values_list("name", "pk")
    )
    new = [
        Campaign(
            name=c.name,
            channel=c.channel,
            utm_source=c.utm_source,
            utm_medium=c.utm_medium,
            utm_campaign=c.utm_campaign,
            utm_term=c.utm_term,
            utm_content=c.utm_content,
            cost=c.cost,
            starts_on=c.starts_on,
            ends_on=c.ends_on,
            created_at=c.created_at,
            updated_at=c.created_at,
        )
        for c in gen.campaigns
        if c.name not in known
    ]
    Campaign.objects.bulk_create(new)
    known.update((c.name, c.pk) for c in new)
    return [known[c.name] for c in gen.campaigns]


class _LeadLoader:
    """Writes chunks of DemoLead; remembers only the ids of advocates (who refer later
    leads), so memory stays flat."""

    def __init__(
        self,
        gen: DemoGenerator,
        user_ids: Sequence[int],
        company_ids: Sequence[int],
        campaign_ids: Sequence[int],
        batch_size: int,
    ) -> None:
        self.gen = gen
        self.user_ids = user_ids
        self.company_ids = company_ids
        self.campaign_ids = campaign_ids
        self.batch_size = batch_size
        self.advocate_ids: dict[int, int] = {}
        self.events = 0
        self.transitions = 0

    def write(self, chunk: Sequence[DemoLead]) -> None:
        rows = [self._lead(d) for d in chunk]
        _bulk_insert(Lead, rows, self.batch_size)
        local = {d.index: row.pk for d, row in zip(chunk, rows, strict=True)}
        late = []  # referred by an advocate in this same chunk: known only now
        for d, row in zip(chunk, rows, strict=True):
            if d.referred_by is not None and row.referred_by_id is None:
                row.referred_by_id = local[d.referred_by]
                late.append(row)
        if late:
            Lead.objects.bulk_update(late, ["referred_by"], batch_size=self.batch_size)
        for d, row in zip(chunk, rows, strict=True):
            if d.lifecycle_stage == "advocate":
                self.advocate_ids[d.index] = row.pk
        self._write_history(chunk, [row.pk for row in rows])

    def _lead(self, d: DemoLead) -> Lead:
        company = self.gen.companies[d.company] if d.company is not None else None
        lead = Lead(
            **{name: getattr(d, name) for name in LEAD_FIELDS},
            company_id=self.company_ids[d.company] if d.company is not None else None,
            campaign_id=self.campaign_ids[d.campaign] if d.campaign is not None else None,
            referred_by_id=(
                self.advocate_ids.get(d.referred_by) if d.referred_by is not None else None
            ),
            owner_id=self.user_ids[d.owner] if d.owner is not None else None,
            lifecycle_stage=d.lifecycle_stage,
            sales_status=d.sales_status,
            temperature=d.temperature,
            qualification=d.qualification,
            last_activity_at=d.last_activity_at,
            archived=d.archived,
            attributes=d.attributes,
            search_text=search_text_for(
                first_name=d.first_name,
                last_name=d.last_name,
                email=d.email,
                phone=d.phone,
                company_name=company.name if company else "",
            ),
            name_key=name_key_for(d.first_name, d.last_name),
            created_at=d.created_at,
            updated_at=d.updated_at,
        )
        for stage, field in STAGE_TIMESTAMP_FIELD.items():
            setattr(lead, field, getattr(d, f"became_{stage}_at"))
        return lead

    def _write_history(self, chunk: Sequence[DemoLead], lead_ids: Sequence[int]) -> None:
        events: list[Event] = []
        transitions: list[LifecycleTransition] = []
        users = self.user_ids
        for d, lead_id in zip(chunk, lead_ids, strict=True):
            events.extend(
                Event(
                    lead_id=lead_id,
                    type=e.type,
                    occurred_at=e.occurred_at,
                    properties=e.properties,
                    source=e.source,
                    created_at=e.occurred_at,
                )
                for e in d.events
            )
            transitions.extend(
                LifecycleTransition(
                    lead_id=lead_id,
                    kind=t.kind,
                    from_value=t.from_value,
                    to_value=t.to_value,
                    at=t.at,
                    reason=t.reason,
                    actor_id=users[t.actor] if t.actor is not None else None,
                    actor_label=t.actor_label,
                )
                for t in d.transitions
            )
            if len(events) >= _EVENT_FLUSH:
                self._flush(events, transitions)
        self._flush(events, transitions)

    def _flush(self, events: list[Event], transitions: list[LifecycleTransition]) -> None:
        _bulk_insert(Event, events, self.batch_size)
        _bulk_insert(LifecycleTransition, transitions, self.batch_size)
        self.events += len(events)
        self.transitions += len(transitions)
        events.clear()
        transitions.clear()


def _bulk_insert[M: models.Model](model: type[M], rows: Sequence[M], batch_size: int) -> None:
    """`model.objects.bulk_create(rows)` in pieces of a few fixed sizes: `_PIECE` rows (or
    `batch_size` if smaller), then the remainder in powers of two. The database then sees a
    handful of distinct INSERT statements instead of one per remainder size: SQLite's
    per-connection statement cache keeps every distinct statement, and a multi-row INSERT is
    megabytes of compiled program, so varying sizes made memory grow with every batch."""
    piece = min(_PIECE, batch_size)
    manager = model._default_manager
    start, total = 0, len(rows)
    while total - start >= piece:
        manager.bulk_create(rows[start : start + piece], batch_size=piece)
        start += piece
    size = 1 << (piece.bit_length() - 1)
    while start < total:
        if total - start >= size:
            manager.bulk_create(rows[start : start + size], batch_size=size)
            start += size
        size >>= 1
