from django.urls import path

from equipment import views

app_name = "equipment"
urlpatterns = [
    path("", views.machine_list, name="machine_list"),
    path("problems/", views.problem_list, name="problem_list"),
    path("problems/<int:pk>/resolve/", views.problem_resolve, name="problem_resolve"),
    path("<slug:slug>/", views.machine_detail, name="machine_detail"),
    path("<slug:slug>/label/", views.machine_label, name="machine_label"),
    path("<slug:slug>/state/", views.machine_state, name="machine_state"),
    path("<slug:slug>/report/", views.problem_report, name="problem_report"),
]
