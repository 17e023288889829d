from django.urls import path

from locations import views

app_name = "locations"

urlpatterns = [
    path("", views.location_list, name="location_list"),
    path("<slug:slug>/", views.location_detail, name="location_detail"),
]
