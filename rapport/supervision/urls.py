"""Supervision routes; each screen's module lists its own (edit only your block)."""

from django.urls import URLPattern, URLResolver

from rapport.supervision.views import control, pool, regularity, rules

app_name = "supervision"

urlpatterns: list[URLPattern | URLResolver] = [
    # ---- The head's control room (views/control.py) ----
    *control.urlpatterns,
    # ---- The shared pool (views/pool.py) ----
    *pool.urlpatterns,
    # ---- Redistribution rules and proposals (views/rules.py) ----
    *rules.urlpatterns,
    # ---- Purchase regularity (views/regularity.py) ----
    *regularity.urlpatterns,
]
