"""Motivation routes; each screen's module lists its own (edit only your block)."""

from django.urls import URLPattern, URLResolver, path

from rapport.motivation.views import bonus_rules, leaderboards, plans, quality, reports, so_far, statements

app_name = "motivation"

urlpatterns: list[URLPattern | URLResolver] = [
    # ---- Data quality (views/quality.py) ----
    path("quality/", quality.my_quality, name="quality"),
    path("quality/team/", quality.team_quality, name="quality-team"),
    path("quality/people/<int:user_id>/", quality.person_quality, name="quality-person"),
    # ---- Plans and counters (views/plans.py) ----
    *plans.urlpatterns,
    # ---- Leaderboards and reports (views/leaderboards.py, views/reports.py) ----
    *leaderboards.urlpatterns,
    *reports.urlpatterns,
    # ---- Bonus so far (views/so_far.py) ----
    *so_far.urlpatterns,
    # ---- Bonus statements (views/statements.py) ----
    *statements.urlpatterns,
    # ---- Bonus rules (views/bonus_rules.py) ----
    *bonus_rules.urlpatterns,
]
