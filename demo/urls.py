from django.contrib.auth.decorators import login_required
from django.urls import path

from demo.views import storefront_demo

urlpatterns = [
    # The demo page lists the demo keys: only for signed-in users, like everything but /healthz.
    path("", login_required(storefront_demo, login_url="admin:login"), name="storefront-demo"),
]
