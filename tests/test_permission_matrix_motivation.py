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


def covered_route_names() -> set[str]:
    return QUALITY_ROUTES | PLAN_ROUTES | REPORT_ROUTES
