"""The permission matrix for supervision: the control room, redistribution, the shared pool, purchase regularity.

`test_every_route_is_in_the_matrix` in test_permission_matrix.py counts the routes named here;
each is proven in the test named beside it.
"""

from __future__ import annotations

# The head's control room.
CONTROL_ROUTES: set[str] = {
    # rapport/supervision/tests/test_control.py::test_the_dashboard_is_for_those_who_manage_people,
    # ::test_a_head_sees_their_team_and_cannot_open_another_by_its_address,
    # ::test_an_admin_and_an_analyst_choose_any_team
    "supervision:control",
}

# The shared pool.
POOL_ROUTES: set[str] = {
    # rapport/supervision/tests/test_pool_views.py::test_everyone_but_outside_agents_opens_the_pool,
    # ::test_signed_out_visitors_are_sent_to_sign_in
    "supervision:pool",
    # test_pool_views.py::test_those_who_do_not_claim_are_refused,
    # ::test_a_client_never_in_the_pool_or_a_malformed_claim_answers_404,
    # ::test_a_client_someone_took_first_is_refused_beside_its_row
    "supervision:pool-claim",
    # test_pool_views.py::test_only_admins_open_the_limit, ::test_an_admin_sets_the_limit
    "supervision:pool-policy",
    # rapport/supervision/tests/test_pool_api.py::test_everyone_but_outside_agents_reads_the_pool,
    # ::test_outside_agents_are_told_they_do_not_see_the_pool
    "api:pool_list",
    # test_pool_api.py::test_managers_and_heads_claim_and_get_the_transfer, ::test_the_other_roles_are_told_who_claims,
    # ::test_a_client_owned_out_of_sight_answers_404
    "api:pool_claim",
    # test_pool_api.py::test_the_limit_is_read_with_the_callers_claims_this_week, ::test_agents_do_not_read_the_limit
    "api:pool_policy_read",
    # test_pool_api.py::test_only_admins_set_the_limit, ::test_an_admin_sets_the_limit
    "api:pool_policy_write",
}

# Redistribution rules and proposals.
RULE_ROUTES: set[str] = {
    # rapport/supervision/tests/test_rules_views.py::test_only_admins_open_and_post_the_rules_screens,
    # ::test_the_rules_list_reads_each_rule_in_words_in_the_same_queries,
    # ::test_an_admin_adds_a_rule_and_refusals_stand_next_to_their_fields
    "supervision:rules",
    "supervision:rule-new",
    "supervision:rule-edit",
    # test_rules_views.py::test_only_admins_open_and_post_the_rules_screens,
    # ::test_a_dry_run_shows_the_proposal_and_changes_nothing
    "supervision:rule-dry-run",
    # test_rules_views.py::test_only_admins_open_and_post_the_rules_screens,
    # ::test_review_now_stores_the_proposal_and_tells_the_head
    "supervision:rule-review",
    # test_rules_views.py::test_only_admins_open_and_post_the_rules_screens,
    # ::test_a_rule_not_in_use_is_not_reviewed_and_a_used_rule_is_not_deleted
    "supervision:rule-delete",
    # test_rules_views.py::test_proposals_are_for_heads_and_admins (403 for those who decide none, 404 out of sight)
    "supervision:proposals",
    "supervision:proposal",
    # test_rules_views.py::test_proposals_are_for_heads_and_admins,
    # ::test_the_head_approves_with_exclusions_and_a_second_approval_is_refused;
    # test_review_services.py::test_who_decides_a_proposal
    "supervision:proposal-decide",
    # test_rules_views.py::test_every_manager_reads_the_rules_for_their_clients_and_the_nearest_to_a_move
    "supervision:my-rules",
    # rapport/supervision/tests/test_rules_api.py::test_each_persona_reads_the_rules_that_apply_to_them
    "api:redistribution_rule_list",
    "api:redistribution_rule_detail",
    # test_rules_api.py::test_only_admins_write_rules_and_bad_input_is_refused_by_field
    "api:redistribution_rule_create",
    "api:redistribution_rule_update",
    "api:redistribution_rule_delete",
    # test_rules_api.py::test_only_admins_write_rules_and_bad_input_is_refused_by_field,
    # ::test_a_dry_run_answers_the_moves_and_stores_nothing
    "api:redistribution_dry_run",
    # test_rules_api.py::test_proposals_are_read_by_their_teams_head_and_admins
    "api:redistribution_proposal_list",
    "api:redistribution_proposal_detail",
    # test_rules_api.py::test_proposals_are_read_by_their_teams_head_and_admins,
    # ::test_approving_with_exclusions_moves_the_others_and_twice_answers_409
    "api:redistribution_proposal_approval",
}

# Orders and purchase regularity.
REGULARITY_ROUTES: set[str] = {
    # rapport/sales/tests/test_orders.py::test_who_may_use_the_order_screens (404 out of sight, 200 for editors),
    # ::test_a_reader_who_sees_the_client_may_not_change_its_orders (403 for who sees but may not edit)
    "sales:order-panel",
    "sales:order-add",
    "sales:order-edit",
    "sales:order-delete",
    # test_orders.py::test_a_won_deals_card_records_its_order, ::test_a_deal_out_of_sight_answers_404
    "sales:order-from-deal",
    # rapport/sales/tests/test_orders_import.py::test_who_opens_the_import, ::test_readers_are_refused_the_page
    "sales:order-import",
    # rapport/supervision/tests/test_regularity_views.py::test_who_reads_and_edits_a_clients_rhythm,
    # ::test_an_analyst_reads_but_does_not_edit
    "supervision:regularity-panel",
    "supervision:regularity-edit",
    # test_regularity_views.py::test_a_head_sees_the_teams_overdue_and_falling_clients_only,
    # ::test_an_admin_chooses_the_team, ::test_the_team_page_is_for_heads_and_admins, ::test_analysts_are_refused…
    "supervision:regularity",
    # test_regularity_views.py::test_an_admin_sets_the_policy, ::test_only_admins_open_the_policy
    "supervision:regularity-policy",
    # rapport/sales/tests/test_orders_api.py::test_each_persona_lists_the_orders_of_the_clients_they_see
    "api:order_list",
    # test_orders_api.py::test_a_client_must_be_one_and_in_sight, ::test_a_reader_who_sees_the_client_is_refused…
    "api:order_create",
    # test_orders_api.py::test_who_corrects_and_deletes_an_order
    "api:order_update",
    "api:order_delete",
    # test_orders_api.py::test_a_won_deal_makes_its_order_once (the stranger's 404 included)
    "api:deal_order_create",
    # rapport/supervision/tests/test_regularity_api.py::test_each_persona_reads_the_overdue_clients_of_their_scope
    "api:regularity_alerts",
    # test_regularity_api.py::test_who_reads_and_sets_a_clients_rhythm, ::test_an_analyst_reads_but_may_not_set
    "api:client_regularity",
    "api:client_regularity_set",
}


def covered_route_names() -> set[str]:
    return CONTROL_ROUTES | POOL_ROUTES | RULE_ROUTES | REGULARITY_ROUTES
