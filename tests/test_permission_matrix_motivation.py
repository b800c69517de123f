"""The permission matrix for motivation: plans, counters, leaderboards and data quality.

`test_every_route_is_in_the_matrix` in test_permission_matrix.py counts the routes named here;
each is proven in the test named beside it.
"""

from __future__ import annotations

# Data quality (each screen's own tests prove who sees whose scores).
QUALITY_ROUTES: set[str] = {
    # rapport/motivation/tests/test_quality_views.py::test_everyone_sees_their_own_page
    "motivation:quality",
    # test_quality_views.py::test_the_team_view_is_for_heads_and_admins, ::test_an_admin_chooses_the_team
    "motivation:quality-team",
    # test_quality_views.py::test_a_manager_sees_only_their_own_list, ::test_a_head_sees_their_teams_lists_only,
    # ::test_an_admin_sees_everyones_lists
    "motivation:quality-person",
    # rapport/motivation/tests/test_quality_api.py: one's own, a head's team, admins; 404 otherwise
    "api:person_quality",
    "api:company_quality",  # test_quality_api.py: whoever sees the client
    "api:contact_quality",
}

# Plans and counters.
PLAN_ROUTES: set[str] = {
    # rapport/motivation/tests/test_plans_page.py::test_each_persona_reads_the_plans_their_scope_holds,
    # ::test_a_manager_cannot_open_another_team_by_its_address, ::test_an_analyst_reads_any_team
    "motivation:plans",
    # test_plans_page.py::test_only_heads_and_admins_open_bulk_entry,
    # ::test_a_head_cannot_edit_another_team_and_an_admin_can
    "motivation:plans-edit",
    # test_plans_page.py::test_only_heads_and_admins_copy;
    # test_plans_services.py::test_only_heads_and_admins_copy_and_a_head_only_their_team
    "motivation:plans-copy",
    # rapport/motivation/tests/test_plans_api.py::test_each_persona_lists_exactly_the_targets_of_their_scope
    "api:target_list",
    # test_plans_api.py::test_who_sets_whose_targets
    "api:target_create",
    # test_plans_api.py::test_a_target_out_of_sight_answers_404_and_one_seen_but_not_theirs_403
    "api:target_update",
    "api:target_delete",
    # test_plans_api.py::test_progress_of_someone_out_of_scope_answers_404
    "api:plan_progress",
}

# Leaderboards and the plan/fact report.
REPORT_ROUTES: set[str] = {
    # rapport/motivation/tests/test_leaderboard.py::test_a_member_of_another_team_cannot_open_this_board,
    # ::test_a_head_cannot_open_another_teams_board, ::test_an_analyst_opens_any_teams_board_and_is_on_none
    "motivation:leaderboard",
    # rapport/motivation/tests/test_report.py::test_a_manager_reads_only_their_own_row_and_the_teams,
    # ::test_a_manager_cannot_open_another_teams_report, ::test_an_analyst_reads_any_teams_report,
    # ::test_those_who_read_no_plans_are_refused
    "motivation:report",
    # test_report.py::test_a_managers_export_holds_only_their_own_row_and_the_teams,
    # ::test_a_manager_cannot_open_another_teams_report, ::test_those_who_read_no_plans_are_refused
    "motivation:report-export",
    # rapport/motivation/tests/test_leaderboard_api.py::test_who_reads_which_teams_board
    "api:plan_leaderboard",
    # rapport/motivation/tests/test_report_api.py::test_who_reads_whose_report, ::test_those_who_read_no_plans_get_403
    "api:plan_report",
}


# Bonus statements' screens (each route with the test that proves who may use it).
BONUS_ROUTES: set[str] = {
    # rapport/motivation/tests/test_statement_views.py::test_a_manager_sees_only_their_own_statement,
    # ::test_a_head_sees_their_team_and_not_another_teams,
    # ::test_admins_and_analysts_see_everyones_and_may_choose_a_team,
    # ::test_those_who_read_no_statements_are_refused
    "motivation:statements",
    # test_statement_views.py::test_a_manager_sees_only_their_own_statement,
    # ::test_a_head_sees_their_team_and_not_another_teams, ::test_those_who_read_no_statements_are_refused
    "motivation:statement",
    # test_statement_views.py::test_approving_what_is_not_yours_to_approve_is_refused,
    # ::test_a_head_cannot_approve_their_own_statement,
    # ::test_an_analyst_who_sees_every_statement_is_told_who_approves_it
    "motivation:statement-approve",
    # test_statement_views.py::test_only_heads_and_admins_recompute,
    # ::test_a_head_recomputes_their_teams_statements_and_is_told_what_changed
    "motivation:statements-compute",
    # test_statement_views.py::test_the_xlsx_holds_the_same_rows_with_numbers_and_a_manager_only_their_own,
    # ::test_the_csv_holds_one_row_per_line_of_what_the_viewer_sees, ::test_a_head_sees_their_team_and_not_another_teams
    "motivation:statements-export",
}

# Bonus rules' screens: admins only, 403 for everyone else.
BONUS_RULE_ROUTES: set[str] = {
    # rapport/motivation/tests/test_bonus_rule_views.py::test_only_admins_open_and_post_the_rules_screens,
    # ::test_an_analyst_is_refused_too, ::test_an_admin_opens_the_screens_and_a_missing_rule_is_404
    "motivation:bonus-rules",
    "motivation:bonus-rule-new",
    "motivation:bonus-rule-edit",
}

# The bonus API.
BONUS_API_ROUTES: set[str] = {
    # rapport/motivation/tests/test_bonus_api.py::test_each_persona_lists_exactly_the_statements_of_their_scope
    "api:statement_list",
    # test_bonus_api.py::test_a_statement_out_of_sight_answers_404
    "api:statement_detail",
    # test_bonus_api.py::test_approving_what_is_not_yours_is_refused_and_changes_nothing,
    # ::test_an_admin_approves_anyones_even_a_heads
    "api:statement_approval",
    # test_bonus_api.py::test_only_heads_and_admins_recompute,
    # ::test_a_head_naming_people_outside_their_team_is_refused_and_nothing_is_computed
    "api:statements_recompute",
    # test_bonus_api.py::test_one_persons_bonus_so_far_within_scope, ::test_a_manager_reads_their_own_bonus_so_far
    "api:bonus_so_far",
    # test_bonus_api.py::test_everyone_reads_the_rules
    "api:bonus_rule_list",
    "api:bonus_rule_detail",
    # test_bonus_api.py::test_only_admins_write_rules
    "api:bonus_rule_create",
    "api:bonus_rule_update",
}

# Bonus so far (the control room's team figures and my day's own card).
DASHBOARD_ROUTES: set[str] = {
    # rapport/motivation/tests/test_bonus_so_far.py::test_only_those_who_manage_a_team_read_its_bonus_so_far,
    # ::test_my_day_fetches_my_bonus_so_far_and_it_is_mine
    "motivation:bonus-so-far",
}


def covered_route_names() -> set[str]:
    return (
        QUALITY_ROUTES
        | PLAN_ROUTES
        | REPORT_ROUTES
        | BONUS_ROUTES
        | BONUS_RULE_ROUTES
        | BONUS_API_ROUTES
        | DASHBOARD_ROUTES
    )
