from django.urls import include, path

from patronage.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("patronage.web.urls")),
]
