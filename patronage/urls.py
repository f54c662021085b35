from django.urls import include, path

from patronage.almaws.api import api as almaws_api
from patronage.api import api
from patronage.ops.views import healthz, metrics, readyz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("api/v1/", api.urls),
    path("almaws/v1/", almaws_api.urls),
    path("", include("patronage.web.urls")),
]
