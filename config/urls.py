from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.health import healthz
from demo.views import storefront_demo

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("catalog.urls")),
    path("api/v1/", include("knowledge.urls")),
    path("api/v1/", include("governance.urls")),
    path("ai/v1/", include("assistant.urls")),
    # The demo page lists the demo keys: only for signed-in users, like everything but /healthz.
    path("", login_required(storefront_demo, login_url="admin:login"), name="storefront-demo"),
]
