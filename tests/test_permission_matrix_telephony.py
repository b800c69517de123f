"""The permission matrix for telephony: the settings, the screen-pop and click-to-call.

`test_every_route_is_in_the_matrix` in test_permission_matrix.py counts the routes named here;
each is proven in the test named beside it.
"""

from __future__ import annotations

SETTINGS_ROUTES: set[str] = {
    # rapport/telephony/tests/test_settings.py::test_only_admins_open_and_post_the_settings,
    # ::test_signed_out_visitors_are_sent_to_sign_in, ::test_an_admin_creates_an_integration_and_sees_its_secret_once
    "telephony:integration-list",
    "telephony:integration-create",
    "telephony:integration-edit",
    # test_settings.py::test_only_admins_open_and_post_the_settings, ::test_a_new_secret_replaces_the_old_one_…
    "telephony:integration-secret",
    # test_settings.py::test_only_admins_open_and_post_the_settings, ::test_extensions_map_to_people_and_move_…
    "telephony:extension-add",
    "telephony:extension-remove",
    # rapport/telephony/tests/test_cdr.py::test_only_admins_upload_call_records,
    # ::test_an_admin_uploads_a_master_csv_and_reads_what_went_in
    "telephony:cdr-upload",
}

SCREEN_POP_ROUTES: set[str] = {
    # rapport/telephony/tests/test_screen_pop.py::test_nothing_pops_for_a_call_long_gone_or_for_someone_else (signed
    # out: sign in; no extension: 286 / 204), ::test_a_colleagues_client_out_of_sight_shows_only_whose_it_is
    "telephony:screen-pop",
    "telephony:screen-pop-stream",
    # rapport/telephony/tests/test_ami.py::test_without_a_pbx_that_originates_the_device_dials (no extension or no
    # AMI: 204; signed out: sign in), ::test_a_click_on_a_number_rings_the_managers_phone_first
    "telephony:call-start",
}


def covered_route_names() -> set[str]:
    return SETTINGS_ROUTES | SCREEN_POP_ROUTES
