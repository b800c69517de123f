"""Telephony routes: the PBX's webhook, the screen-pop, click-to-call and the admins' settings."""

from django.urls import path

from rapport.telephony import pop_views, settings_views, views

app_name = "telephony"

urlpatterns = [
    path("<slug:name>/events", views.call_events, name="call-events"),
    path("call/", pop_views.call_start, name="call-start"),
    path("screen-pop/", pop_views.screen_pop, name="screen-pop"),
    path("screen-pop/stream/", pop_views.screen_pop_stream, name="screen-pop-stream"),
    path("settings/", settings_views.integration_list, name="integration-list"),
    path("settings/new/", settings_views.integration_create, name="integration-create"),
    path("settings/<int:integration_id>/", settings_views.integration_edit, name="integration-edit"),
    path("settings/<int:integration_id>/secret/", settings_views.integration_secret_renew, name="integration-secret"),
    path("settings/<int:integration_id>/extensions/", settings_views.extension_add, name="extension-add"),
    path("settings/<int:integration_id>/cdr/", settings_views.cdr_upload, name="cdr-upload"),
    path("settings/extensions/<int:extension_id>/remove/", settings_views.extension_remove, name="extension-remove"),
]
