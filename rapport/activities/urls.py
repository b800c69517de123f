"""Activity routes; each screen's module lists its own."""

from rapport.activities.views import calendar, imports, lists, my_day, pages, quick_log, settings

app_name = "activities"

urlpatterns = [
    *quick_log.urlpatterns,
    *pages.urlpatterns,
    *my_day.urlpatterns,
    *calendar.urlpatterns,
    *lists.urlpatterns,
    *imports.urlpatterns,
    *settings.urlpatterns,
]
