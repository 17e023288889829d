from django.urls import path

from console import views

app_name = "console"
urlpatterns = [
    path("today/", views.today, name="today"),
]
