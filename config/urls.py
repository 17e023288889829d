from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from core import page_views
from core.task_views import background_tasks
from membership import views as membership_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("favicon.ico", page_views.favicon),
    path("staff/background-tasks/", background_tasks, name="background_tasks"),
    path("staff/", include("console.urls")),
    path("accounts/", include("allauth.urls")),
    # The language switcher posts here (Django's set_language, remembered for a signed-in person).
    path("i18n/setlang/", membership_views.language_set, name="set_language"),
    path("training/", include("training.urls")),
    path("machines/", include("equipment.urls")),
    path("bookings/", include("bookings.urls")),
    path("access/", include("access.urls")),
    path("locations/", include("locations.urls")),
    path("staff/webhooks/", include("webhooks.urls")),
    path("api/", include("api.urls")),
    path("", include("membership.urls")),
]
# Uploads (machine photos) in development; in production the web server serves MEDIA_ROOT.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "core.page_views.bad_request"
handler403 = "core.page_views.permission_denied"
handler404 = "core.page_views.page_not_found"
