from django.urls import path

from equipment import staff_views, views
from equipment.daypasses import views as day_pass_views

app_name = "equipment"
urlpatterns = [
    path("", views.machine_list, name="machine_list"),
    path("problems/", views.problem_list, name="problem_list"),
    path("problems/<int:pk>/resolve/", views.problem_resolve, name="problem_resolve"),
    path("new/", staff_views.machine_add, name="machine_add"),
    path("day-passes/<int:pk>/buy/", day_pass_views.day_pass_buy, name="day_pass_buy"),
    path("day-passes/sell-to/<int:pk>/", day_pass_views.day_pass_sell, name="day_pass_sell"),
    path("day-passes/<int:pk>/cancel/", day_pass_views.day_pass_cancel, name="day_pass_cancel"),
    path("<slug:slug>/", views.machine_detail, name="machine_detail"),
    path("<slug:slug>/label/", views.machine_label, name="machine_label"),
    path("<slug:slug>/state/", views.machine_state, name="machine_state"),
    path("<slug:slug>/report/", views.problem_report, name="problem_report"),
    path("<slug:slug>/edit/", staff_views.machine_edit, name="machine_edit"),
    path("<slug:slug>/hours/", staff_views.opening_hours_add, name="opening_hours_add"),
    path(
        "<slug:slug>/hours/remove/", staff_views.opening_hours_remove, name="opening_hours_remove"
    ),
]
