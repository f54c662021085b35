"""The native REST API under /api/v1/ and its OpenAPI document (/api/v1/openapi.json).

Authentication, the permission every operation declares and the mapping of errors to
``{"code", "message", "field" | "errors"}`` live in ``patronage.api_support``; this module
assembles them with the routers.
"""

from ninja import NinjaAPI

from patronage.access.api import router as access_router
from patronage.access.api_keys import router as api_keys_router
from patronage.accounts.api import router as users_router
from patronage.api_support import API_AUTH, install_error_handlers, permission_required
from patronage.approvals.api import router as approvals_router
from patronage.approvals.directory_api import router as directory_router
from patronage.circulation.api import router as circulation_router
from patronage.privacy.api import router as privacy_router
from patronage.privacy.api_retention import router as retention_router
from patronage.privacy.personal_data_api import router as personal_data_router
from patronage.sis.api import router as sis_router
from patronage.sis.bulk_api import router as bulk_router

__all__ = ["api", "permission_required"]

api = NinjaAPI(
    title="Patronage API",
    version="1",
    urls_namespace="api",
    description="User records, roles and access governance for research libraries.",
    auth=API_AUTH,
)
install_error_handlers(api)
api.add_router("/users", users_router, tags=["users"])
api.add_router("", access_router, tags=["roles"])
api.add_router("/api-keys", api_keys_router, tags=["api keys"])
api.add_router("", circulation_router, tags=["patron services"])
api.add_router("", approvals_router, tags=["access governance"])
api.add_router("", directory_router, tags=["access governance"])
api.add_router("", privacy_router, tags=["privacy"])
api.add_router("", personal_data_router, tags=["privacy"])
api.add_router("", retention_router, tags=["privacy"])
api.add_router("", sis_router, tags=["sis"])
api.add_router("", bulk_router, tags=["bulk update"])
