from django.urls import path

from rapport.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/bell/", views.notification_bell, name="notification-bell"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications-read-all"),
    path("notifications/<int:notification_id>/open/", views.notification_open, name="notification-open"),
    path("system/", views.system_status, name="system-status"),
    path("healthz", views.healthz, name="healthz"),
    path("ping", views.ping, name="ping"),
]
