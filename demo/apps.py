from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Development only: the demo catalog, `seed_demo` and the storefront demo page; the product never imports it."""

    name = "demo"
