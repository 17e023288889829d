from django.urls import path

from access import views

app_name = "access"
urlpatterns = [
    path("live/", views.live, name="live"),
    path("check/", views.access_check, name="check"),
    path("gates/new/", views.device_register, name="device_register"),
    path("machines/<slug:slug>/stop/", views.emergency_stop, name="emergency_stop"),
]
