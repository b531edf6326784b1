"""Leads, companies, campaigns, events, transitions and consent; `services.lead_upsert` is the
one way a lead enters Leadbase."""
