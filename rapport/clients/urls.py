from django.urls import path

from rapport.clients import views

app_name = "clients"

urlpatterns = [
    path("companies/", views.company_list, name="company-list"),
    path("companies/new/", views.company_create, name="company-create"),
    path("contacts/new/", views.contact_create, name="contact-create"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("contacts/", views.contact_list, name="contact-list"),
    path("companies/<int:company_id>/", views.company_detail, name="company-detail"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="contact-detail"),
    path("<str:kind>/<int:client_id>/transfer/", views.client_transfer, name="client-transfer"),
    path("<str:kind>/<int:client_id>/take/", views.client_take, name="client-take"),
]
