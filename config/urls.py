from django.contrib import admin
from django.urls import include, path

from rapport.api.api import api

urlpatterns = [
    path("", include("rapport.core.urls")),
    path("accounts/api-tokens/", include("rapport.api.urls")),
    path("accounts/", include("rapport.accounts.urls")),
    path("clients/", include("rapport.clients.urls")),
    path("sales/", include("rapport.sales.urls")),
    path("activities/", include("rapport.activities.urls")),
    path("motivation/", include("rapport.motivation.urls")),
    path("supervision/", include("rapport.supervision.urls")),
    path("telephony/", include("rapport.telephony.urls")),
    path("api/", api.urls),
    path("django-admin/", admin.site.urls),
]

handler403 = "rapport.core.views.permission_denied"
handler404 = "rapport.core.views.page_not_found"
