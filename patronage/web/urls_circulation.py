"""Staff UI routes: circulation (patron services: fines and fees, loans, proxies, deletion)."""

from django.urls import URLPattern, path

from .views import circulation as views
from .views import circulation_config as config

urlpatterns: list[URLPattern] = [
    path("users/<int:pk>/fees/", views.user_fees, name="user_fees"),
    path("users/<int:pk>/fees/add/", views.fee_add, name="fee_add"),
    path("users/<int:pk>/fees/credit/", views.credit_add, name="credit_add"),
    path("users/<int:pk>/fees/pay-all/", views.fee_pay_all, name="fee_pay_all"),
    path("users/<int:pk>/fees/waive/", views.fee_waive, name="fee_waive"),
    path("users/<int:pk>/fees/export/", views.fee_export, name="fee_export"),
    path("users/<int:pk>/fees/<int:fee_id>/pay/", views.fee_pay, name="fee_pay"),
    path("users/<int:pk>/fees/<int:fee_id>/dispute/", views.fee_dispute, name="fee_dispute"),
    path("users/<int:pk>/fees/<int:fee_id>/restore/", views.fee_restore, name="fee_restore"),
    path("users/<int:pk>/fees/<int:fee_id>/item/", views.fee_link_item, name="fee_link_item"),
    path("users/<int:pk>/loans/", views.user_loans, name="user_loans"),
    path("users/<int:pk>/loans/checkout/", views.loan_checkout, name="loan_checkout"),
    path("users/<int:pk>/loans/<int:loan_id>/renew/", views.loan_renew, name="loan_renew"),
    path("users/<int:pk>/loans/<int:loan_id>/return/", views.loan_return, name="loan_return"),
    path("users/<int:pk>/proxies/", views.user_proxies, name="user_proxies"),
    path("users/<int:pk>/proxies/add/", views.proxy_add, name="proxy_add"),
    path(
        "users/<int:pk>/proxies/<int:relation_id>/remove/",
        views.proxy_remove,
        name="proxy_remove",
    ),
    path("users/<int:pk>/delete/", views.user_deletion, name="user_deletion"),
    path("circulation/returns/", views.returns, name="returns"),
    path("circulation/items/", config.items, name="items"),
    path("circulation/items/<int:item_id>/", config.item_edit, name="item_edit"),
    path("circulation/config/", config.circulation_config, name="circulation_config"),
    path("circulation/config/settings/", config.settings_save, name="circulation_settings_save"),
    path(
        "circulation/config/policies/<str:user_group>/",
        config.policy_save,
        name="circulation_policy_save",
    ),
    path("circulation/config/fee-types/", config.fee_type_save, name="fee_type_save"),
    path("circulation/config/waive-reasons/", config.waive_reason_save, name="waive_reason_save"),
    path(
        "circulation/config/waive-limits/<str:role_code>/",
        config.waive_limit_save,
        name="waive_limit_save",
    ),
]
