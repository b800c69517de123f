from django.urls import path

from rapport.clients.views import cards, create, lists

app_name = "clients"

urlpatterns = [
    path("companies/", lists.company_list, name="company-list"),
    path("contacts/", lists.contact_list, name="contact-list"),
    path("companies/new/", create.company_create, name="company-create"),
    path("contacts/new/", create.contact_create, name="contact-create"),
    path("duplicates/", create.duplicates, name="duplicates"),
    path("companies/<int:company_id>/", cards.company_detail, name="company-detail"),
    path("contacts/<int:contact_id>/", cards.contact_detail, name="contact-detail"),
    path("<str:kind>/<int:client_id>/transfer/", cards.client_transfer, name="client-transfer"),
    path("<str:kind>/<int:client_id>/take/", cards.client_take, name="client-take"),
]
