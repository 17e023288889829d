from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from core.task_views import background_tasks

urlpatterns = [
    path("admin/", admin.site.urls),
    path("staff/background-tasks/", background_tasks, name="background_tasks"),
    path("accounts/", include("allauth.urls")),
    path("training/", include("training.urls")),
    path("machines/", include("equipment.urls")),
    path("bookings/", include("bookings.urls")),
    path("access/", include("access.urls")),
    path("locations/", include("locations.urls")),
    path("", include("membership.urls")),
]
# Uploads (machine photos) in development; in production the web server serves MEDIA_ROOT.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
