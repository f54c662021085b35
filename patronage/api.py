"""The native REST API under /api/v1/ and its OpenAPI document (/api/v1/openapi.json)."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="Patronage API",
    version="1",
    urls_namespace="api",
    description="User records, roles and access governance for research libraries.",
)
