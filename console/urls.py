from django.urls import path

from console import report_views, setup_views, views

app_name = "console"
urlpatterns = [
    path("today/", views.today, name="today"),
    path("reports/", report_views.report_list, name="reports"),
    *(
        path(f"reports/{slug}/", report_views.report_page, {"report": report}, name=name)
        for slug, report, name in [
            ("utilization", report_views.UTILIZATION, "utilization"),
            ("no-shows", report_views.NO_SHOWS, "report_no_shows"),
            ("certifications", report_views.CERTIFICATIONS, "report_certifications"),
            ("members", report_views.MEMBERS, "report_members"),
            ("money", report_views.MONEY, "report_money"),
        ]
    ),
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
