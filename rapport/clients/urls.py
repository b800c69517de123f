from django.urls import path

from rapport.clients.views import cards, cleanup, create, edit, exports, lists

app_name = "clients"

urlpatterns = [
    path("companies/", lists.company_list, name="company-list"),
    path("contacts/", lists.contact_list, name="contact-list"),
    path("companies/export.<str:fmt>", exports.company_export, name="company-export"),
    path("contacts/export.<str:fmt>", exports.contact_export, name="contact-export"),
    path("companies/bulk/", lists.client_bulk, {"kind": "company"}, name="company-bulk"),
    path("contacts/bulk/", lists.client_bulk, {"kind": "contact"}, name="contact-bulk"),
    path("companies/views/", lists.saved_view_save, {"kind": "company"}, name="company-view-save"),
    path("contacts/views/", lists.saved_view_save, {"kind": "contact"}, name="contact-view-save"),
    path("companies/views/menu/", lists.saved_view_menu, {"kind": "company"}, name="company-view-menu"),
    path("contacts/views/menu/", lists.saved_view_menu, {"kind": "contact"}, name="contact-view-menu"),
    path("views/<int:view_id>/delete/", lists.saved_view_delete, name="saved-view-delete"),
    path("companies/new/", create.company_create, name="company-create"),
    path("contacts/new/", create.contact_create, name="contact-create"),
    path("duplicates/", create.duplicates, name="duplicates"),
    path("companies/<int:company_id>/", cards.company_detail, name="company-detail"),
    path("contacts/<int:contact_id>/", cards.contact_detail, name="contact-detail"),
    # Fixed prefixes before the <kind>/<id>/ patterns, which would swallow them.
    path("points/<int:point_id>/", edit.point_update, name="point-update"),
    path("points/<int:point_id>/edit/", edit.point_edit, name="point-edit"),
    path("points/<int:point_id>/remove/", edit.point_remove, name="point-remove"),
    path("<str:kind>/<int:client_id>/transfer/", cards.client_transfer, name="client-transfer"),
    path("<str:kind>/<int:client_id>/take/", cards.client_take, name="client-take"),
    path("<str:kind>/<int:client_id>/transfers/", cards.client_transfers, name="client-transfers"),
    path("<str:kind>/<int:client_id>/changes/", cards.client_changes, name="client-changes"),
    path("<str:kind>/<int:client_id>/edit/", edit.client_edit, name="client-edit"),
    path("<str:kind>/<int:client_id>/details/", edit.client_details, name="client-details"),
    path("<str:kind>/<int:client_id>/points/", edit.point_add, name="point-add"),
    path("<str:kind>/<int:client_id>/tags/", edit.client_tags, name="client-tags"),
    path("<str:kind>/<int:client_id>/delete/", edit.client_delete, name="client-delete"),
    path("<str:kind>/<int:client_id>/restore/", cleanup.restore, name="client-restore"),
    path("<str:kind>/<int:client_id>/merge/", cleanup.merge_client, name="client-merge"),
    path("<str:kind>/autocomplete/", cleanup.autocomplete, name="autocomplete"),
    path("trash/", cleanup.trash, name="trash"),
]
