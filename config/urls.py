from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("knowledge.urls")),
    path("api/v1/", include("governance.urls")),
    path("ai/v1/", include("assistant.urls")),
]
if settings.DEMO:  # development data and the storefront demo page; DJANGO_DEMO=0 leaves them out
    urlpatterns.append(path("", include("demo.urls")))
