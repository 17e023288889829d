from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("training/", include("training.urls")),
    path("machines/", include("equipment.urls")),
    path("bookings/", include("bookings.urls")),
    path("access/", include("access.urls")),
    path("", include("membership.urls")),
]
