from django.urls import path

from access import views

app_name = "access"
urlpatterns = [
    path("live/", views.live, name="live"),
    path("check/", views.access_check, name="check"),
    path("log/", views.access_log, name="log"),
    path("log.csv", views.access_log_export, name="log_export"),
    path("gates/new/", views.device_register, name="device_register"),
    path("gates/<slug:device_id>/", views.gate_detail, name="gate_detail"),
    path("gates/<slug:device_id>/disable/", views.gate_disable, name="gate_disable"),
    path("gates/<slug:device_id>/enable/", views.gate_enable, name="gate_enable"),
    path("gates/<slug:device_id>/credentials/", views.gate_credentials, name="gate_credentials"),
    path("gates/<slug:device_id>/move/", views.gate_move, name="gate_move"),
    path("machines/<slug:slug>/stop/", views.emergency_stop, name="emergency_stop"),
    path("machines/<slug:slug>/clear-stop/", views.emergency_clear, name="emergency_clear"),
    path("my-machine-time/", views.my_usage, name="my_usage"),
    path("members/<int:pk>/machine-time/", views.member_usage, name="member_usage"),
]
