"""The companies of a lead_upsert_many chunk: read in bulk, resolved row by row as
services.company_resolve would resolve them, new ones and filled-in firmographics written
together before the leads that point at them; and the stored leads with a given name at a
given company (what same-name suggestions compare)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connections
from django.db.models.functions import Lower

from leadbase.core.fastinsert import in_values, insert_rows, update_rows

from .models import Company, Lead
from .normalize import company_domain_from_email

# What resolve() reads and may set (a new company's other columns take their defaults).
COMPANY_COLUMNS = ("name", "domain", "industry", "employee_count", "annual_revenue", "country")


@dataclass(eq=False, slots=True)
class BatchCompany:
    """A company row as the batch sees it: a stored one, or one to insert (no pk until
    CompanyCache.flush). Plain attributes, no model instance: a chunk reads thousands."""

    pk: int | None
    name: str = ""
    domain: str = ""
    industry: str = ""
    employee_count: int | None = None
    annual_revenue: Decimal | None = None
    country: str = ""


def email_domain(values: Mapping[str, Any]) -> str:
    return company_domain_from_email(values.get("email", ""))


class CompanyCache:
    """Companies by domain and by name, and those of the chunk's existing leads by id. One
    object per company, so a value filled in by one row is seen by the rows after."""

    def __init__(
        self,
        cleaned: Sequence[tuple[int, Mapping[str, Any]]],
        existing: Sequence[Mapping[str, Any]],
    ) -> None:
        """Loaded with the companies the cleaned rows name, and those of the existing leads
        (given by their data: email, company_id)."""
        self.by_domain: dict[str, BatchCompany] = {}
        self.by_name: dict[str, BatchCompany] = {}
        self.new: list[BatchCompany] = []
        self.dirty: dict[int, tuple[BatchCompany, set[str]]] = {}
        columns = ("id", *COMPANY_COLUMNS)
        own_domains = [c.get("company_domain") or email_domain(c) for _, c in cleaned]
        # A row matched by phone may take the company of the lead's own email.
        domains = {*own_domains, *(email_domain(data) for data in existing)}
        domains.discard("")
        if domains:
            # `domain <> ''` spelled out lets SQLite use the partial unique index on domain.
            matches = Company.objects.filter(domain__in=in_values(Company, "domain", domains))
            for row in matches.exclude(domain="").order_by().values_list(*columns):
                company = BatchCompany(*row)
                self.by_domain[company.domain] = company
        # By name only for rows without a domain of their own: a row with an email is merged
        # into a lead with that same email, so resolve() finds its company by that domain.
        names = {
            c["company"].lower()
            for (_, c), domain in zip(cleaned, own_domains, strict=True)
            if not domain and "company" in c
        }
        if names:
            matches = (
                Company.objects.alias(lname=Lower("name"))
                .filter(domain="", lname__in=in_values(Company, "name", names))
                .order_by("id")
            )
            for row in matches.values_list(*columns):
                company = BatchCompany(*row)
                self.by_name.setdefault(company.name.lower(), company)
        self.by_id = {c.pk: c for c in [*self.by_domain.values(), *self.by_name.values()]}
        if wanted := {data["company_id"] for data in existing} - {None, *self.by_id}:
            matches = Company.objects.filter(pk__in=in_values(Company, "id", wanted))
            for row in matches.order_by().values_list(*columns):
                self.by_id[row[0]] = BatchCompany(*row)

    def stored(self, company_id: int | None) -> BatchCompany | None:
        """The company of an existing lead."""
        return None if company_id is None else self.by_id[company_id]

    def resolve(self, clean: Mapping[str, Any]) -> BatchCompany | None:
        """Mirror of services.company_resolve, against the cache."""
        domain = clean.get("company_domain") or email_domain(clean)
        name = clean.get("company", "")
        if not domain and not name:
            return None
        if domain:
            company = self.by_domain.get(domain)
            if company is None:
                company = self.by_domain[domain] = BatchCompany(None, domain=domain, name=name)
                self.new.append(company)
        else:
            company = self.by_name.get(name.lower())
            if company is None:
                company = self.by_name[name.lower()] = BatchCompany(None, name=name)
                self.new.append(company)
        fills = {
            "name": name,
            "industry": clean.get("industry", ""),
            "employee_count": clean.get("employee_count"),
            "annual_revenue": clean.get("annual_revenue"),
            "country": clean.get("country", "") if domain else "",
        }
        for key, value in fills.items():
            if value not in ("", None) and not getattr(company, key):
                setattr(company, key, value)
                if company.pk is not None:
                    self.dirty.setdefault(company.pk, (company, set()))[1].add(key)
        return company

    def flush(self) -> None:
        """Inserts the new companies (which get their ids) and writes the values filled in
        on stored ones (with a new updated_at)."""
        ids = insert_rows(
            Company,
            [{k: getattr(c, k) for k in COMPANY_COLUMNS} for c in self.new],
            return_ids=True,
        )
        for company, pk in zip(self.new, ids, strict=True):
            company.pk = pk
        self.new.clear()
        by_fields: dict[tuple[str, ...], list[list[Any]]] = defaultdict(list)
        for company, changed in self.dirty.values():
            names = tuple(sorted(changed))
            by_fields[names].append([company.pk, *(getattr(company, n) for n in names)])
        for names, rows in by_fields.items():
            update_rows(Company, [*names, "updated_at"], rows)  # updated_at: auto_now
        self.dirty.clear()


def leads_named(pairs: set[tuple[int, str]]) -> list[tuple[int, int, str]]:
    """(id, company id, name key) of the stored leads with one of the (company id, name key)
    pairs: one seek per pair in the (company, name_key) index, the pairs sent as one JSON
    parameter (which PostgreSQL receives much faster than two arrays)."""
    connection = connections[Lead.objects.db]
    lead = connection.ops.quote_name(Lead._meta.db_table)
    select = "SELECT l.id, l.company_id, l.name_key FROM"
    if connection.vendor == "postgresql":
        # A lateral subquery with OFFSET 0 (not flattened into a join) is one index seek per
        # pair; as a plain join PostgreSQL may hash the whole table instead (at 50k leads it
        # did, taking twice as long, and that grows with the table).
        sql = (
            f"{select} json_array_elements(%s::json) AS k(e) CROSS JOIN LATERAL"  # noqa: S608
            f" (SELECT id, company_id, name_key FROM {lead} WHERE company_id ="
            " (k.e->>0)::bigint AND name_key = k.e->>1 OFFSET 0) AS l"
        )
    elif connection.vendor == "sqlite":  # CROSS JOIN: the pairs are the outer loop
        sql = (
            f"{select} json_each(%s) AS k CROSS JOIN {lead} AS l"
            " ON l.company_id = json_extract(k.value, '$[0]')"
            " AND l.name_key = json_extract(k.value, '$[1]')"
        )
    else:  # the companies' leads with one of the names, the pairs picked out here
        query = Lead.objects.filter(
            company_id__in={c for c, _ in pairs}, name_key__in={n for _, n in pairs}
        )
        rows = query.order_by().values_list("id", "company_id", "name_key")
        return [row for row in rows if (row[1], row[2]) in pairs]
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(sorted(pairs))])
        return [(pk, company_id, name_key) for pk, company_id, name_key in cursor.fetchall()]
