from django.urls import path

from console import report_views, setup_views, views

app_name = "console"
urlpatterns = [
    path("today/", views.today, name="today"),
    path("reports/", report_views.report_list, name="reports"),
    path("reports/utilization/", report_views.utilization, name="utilization"),
    path("reports/no-shows/", report_views.no_shows, name="report_no_shows"),
    path("reports/certifications/", report_views.certifications, name="report_certifications"),
    path("reports/members/", report_views.members, name="report_members"),
    path("reports/money/", report_views.money, name="report_money"),
    path("setup/", setup_views.setup_home, name="setup"),
    path("setup/certifications/new/", setup_views.certification_edit, name="certification_new"),
    path(
        "setup/certifications/<int:pk>/", setup_views.certification_edit, name="certification_edit"
    ),
    path("setup/plans/new/", setup_views.plan_edit, name="plan_new"),
    path("setup/plans/<int:pk>/", setup_views.plan_edit, name="plan_edit"),
    path("setup/waiver/", setup_views.waiver_publish, name="waiver_publish"),
    path("setup/roles/", setup_views.role_edit, name="roles"),
    path("setup/series/new/", setup_views.series_edit, name="series_new"),
    path("setup/series/<int:pk>/", setup_views.series_edit, name="series_edit"),
]
