"""Telephony routes."""

from django.urls import path

from rapport.telephony import views

app_name = "telephony"

urlpatterns = [
    path("<slug:name>/events", views.call_events, name="call-events"),
]
