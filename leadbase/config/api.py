"""The JSON API root at /api/v1/: each app contributes its own router module."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="Leadbase API",
    version="1",
    description="Leads, companies and more. Authenticate with `Authorization: Bearer <key>`.",
    docs_url="/docs",
    openapi_url="/openapi.json",
    urls_namespace="api",
)
