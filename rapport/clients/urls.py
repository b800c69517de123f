from django.urls import path

from rapport.clients import views

app_name = "clients"

urlpatterns = [
    path("companies/", views.company_list, name="company-list"),
    path("contacts/", views.contact_list, name="contact-list"),
    path("companies/<int:company_id>/", views.company_detail, name="company-detail"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="contact-detail"),
]
