from django.urls import path

from membership import staff_views, views
from membership.billing import reports as billing_reports
from membership.billing import views as billing_views

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("profile/", views.profile, name="profile"),
    path("waiver/", views.waiver_sign, name="waiver_sign"),
    path("card/", views.member_card, name="member_card"),
    path("billing/", views.billing, name="membership_billing"),
    path("billing/checkout/", billing_views.checkout, name="billing_checkout"),
    path("billing/portal/", billing_views.portal, name="billing_portal"),
    path("billing/credits/<int:pk>/", billing_views.credit_pack_buy, name="billing_credit_pack"),
    path("billing/receipts/<int:pk>/", billing_views.receipt, name="billing_receipt"),
    path("billing/status/", billing_views.status, name="billing_status"),
    path("billing/stripe/webhook/", billing_views.stripe_webhook, name="stripe_webhook"),
    path("staff/members/", staff_views.member_search, name="staff_member_search"),
    path("staff/members/<int:pk>/", staff_views.member_detail, name="staff_member_detail"),
    path("staff/members/<int:pk>/badges/", staff_views.badge_assign, name="staff_badge_assign"),
    path(
        "staff/members/<int:pk>/payments/", staff_views.payment_record, name="staff_payment_record"
    ),
    path(
        "staff/members/<int:pk>/status/",
        staff_views.membership_status,
        name="staff_membership_status",
    ),
    path("staff/badges/<int:pk>/disable/", staff_views.badge_disable, name="staff_badge_disable"),
    path("staff/badges/<int:pk>/replace/", staff_views.badge_replace, name="staff_badge_replace"),
    path("staff/members/<int:pk>/sales/", staff_views.material_sell, name="staff_material_sell"),
    path(
        "staff/ledger/<int:pk>/reverse/",
        staff_views.ledger_entry_reverse,
        name="staff_ledger_reverse",
    ),
    path(
        "staff/refunds/<int:pk>/retry/",
        staff_views.refund_try_again,
        name="staff_refund_retry",
    ),
    path("staff/takings/", billing_reports.takings, name="staff_takings"),
    path("staff/card/<str:token>/", staff_views.card_scan, name="staff_card_scan"),
]
