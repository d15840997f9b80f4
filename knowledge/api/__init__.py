"""Storefront read API: content (policies, documents) and search, one module per concern."""
