from django.urls import include, path

from patronage.api import api
from patronage.ops.health import healthz, readyz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("api/v1/", api.urls),
    path("", include("patronage.web.urls")),
]
