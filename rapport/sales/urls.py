from django.urls import path

from rapport.sales.views import board, deals, lists, orders, products, settings

app_name = "sales"

# Each screen's routes in its own block; edit only your block (and the import line above).
urlpatterns = [
    # ---- Deals: card, registration, editing, lines, checkpoints (views/deals.py) ----
    path("deals/<int:deal_id>/", deals.deal_detail, name="deal-detail"),
    path("deals/new/", deals.deal_create, name="deal-create"),
    path("deals/<int:deal_id>/edit/", deals.deal_edit, name="deal-edit"),
    path("deals/<int:deal_id>/regions/<str:region>/", deals.deal_region, name="deal-region"),
    path("deals/<int:deal_id>/stage/", deals.deal_stage, name="deal-stage"),
    path("deals/<int:deal_id>/registrant/", deals.deal_set_registrant, name="deal-registrant"),
    path("deals/<int:deal_id>/delete/", deals.deal_delete, name="deal-delete"),
    path("deals/<int:deal_id>/checkpoints/<int:checkpoint_id>/", deals.checkpoint_toggle, name="deal-checkpoint"),
    path("deals/<int:deal_id>/lines/", deals.line_add, name="deal-line-add"),
    path("deals/lines/<int:line_id>/", deals.line_edit, name="deal-line-edit"),
    path("deals/lines/<int:line_id>/remove/", deals.line_remove, name="deal-line-remove"),
    path("products/autocomplete/", deals.product_autocomplete, name="product-autocomplete"),
    # ---- The board (views/board.py) ----
    path("boards/", board.board_default, name="board-default"),
    path("boards/<int:pipeline_id>/", board.board, name="board"),
    path("boards/<int:pipeline_id>/closed/", board.board_closed, name="board-closed"),
    path("deals/<int:deal_id>/move/", board.deal_move, name="deal-move"),
    # ---- Deal list, saved views, export (views/lists.py) ----
    path("deals/", lists.deal_list_view, name="deal-list"),
    path("deals/export.<str:fmt>", lists.deal_export, name="deal-export"),
    path("deals/views/", lists.deal_view_save, name="deal-view-save"),
    path("deals/views/menu/", lists.deal_view_menu, name="deal-view-menu"),
    path("deals/views/<int:view_id>/delete/", lists.deal_view_delete, name="deal-view-delete"),
    # ---- Products, stock, catalogue import (views/products.py) ----
    path("products/", products.product_list, name="product-list"),
    path("products/new/", products.product_create, name="product-create"),
    path("products/<int:product_id>/", products.product_detail, name="product-detail"),
    path("products/<int:product_id>/edit/", products.product_edit, name="product-edit"),
    path("products/<int:product_id>/prices/", products.product_prices, name="product-prices"),
    path("products/import/", products.product_import, name="product-import"),
    path("products/import/stock/", products.stock_import, name="stock-import"),
    # ---- Orders: the client card's panel, a won deal's order, the CSV import (views/orders.py) ----
    *orders.urlpatterns,
    # ---- Sales settings for admins: pipelines, stages, gates, checkpoint types, reasons (views/settings.py) ----
    path("settings/pipelines/", settings.pipeline_list, name="pipeline-list"),
    path("settings/pipelines/<int:pipeline_id>/", settings.pipeline_detail, name="pipeline-detail"),
    path("settings/pipelines/<int:pipeline_id>/rename/", settings.pipeline_rename, name="pipeline-rename"),
    path("settings/pipelines/<int:pipeline_id>/move/", settings.pipeline_move, name="pipeline-move"),
    path("settings/pipelines/<int:pipeline_id>/active/", settings.pipeline_active, name="pipeline-active"),
    path("settings/pipelines/<int:pipeline_id>/stages/new/", settings.stage_create, name="stage-create"),
    path("settings/stages/<int:stage_id>/", settings.stage_edit, name="stage-edit"),
    path("settings/stages/<int:stage_id>/move/", settings.stage_move, name="stage-move"),
    path("settings/stages/<int:stage_id>/delete/", settings.stage_delete, name="stage-delete"),
    path(
        "settings/pipelines/<int:pipeline_id>/checkpoints/new/",
        settings.checkpoint_type_create,
        name="checkpoint-type-create",
    ),
    path("settings/checkpoints/<int:checkpoint_type_id>/", settings.checkpoint_type_edit, name="checkpoint-type-edit"),
    path(
        "settings/checkpoints/<int:checkpoint_type_id>/move/",
        settings.checkpoint_type_move,
        name="checkpoint-type-move",
    ),
    path(
        "settings/checkpoints/<int:checkpoint_type_id>/delete/",
        settings.checkpoint_type_delete,
        name="checkpoint-type-delete",
    ),
    path("settings/lost-reasons/", settings.lost_reason_list, name="lost-reason-list"),
    path("settings/lost-reasons/<int:reason_id>/", settings.lost_reason_edit, name="lost-reason-edit"),
    path("settings/catalogue/", settings.catalogue_settings, name="catalogue-settings"),
    path("settings/price-lists/new/", settings.price_list_edit, name="price-list-create"),
    path("settings/price-lists/<int:price_list_id>/", settings.price_list_edit, name="price-list-edit"),
    path("settings/warehouses/new/", settings.warehouse_edit, name="warehouse-create"),
    path("settings/warehouses/<int:warehouse_id>/", settings.warehouse_edit, name="warehouse-edit"),
]
