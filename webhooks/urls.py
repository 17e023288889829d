from django.urls import path

from webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.endpoint_list, name="endpoint_list"),
    path("new/", views.endpoint_new, name="endpoint_new"),
    path("<int:pk>/", views.endpoint_detail, name="endpoint_detail"),
    path("<int:pk>/test/", views.endpoint_test, name="endpoint_test"),
    path("<int:pk>/disable/", views.endpoint_disable, name="endpoint_disable"),
    path("<int:pk>/enable/", views.endpoint_enable, name="endpoint_enable"),
    path("<int:pk>/new-secret/", views.endpoint_rotate_secret, name="endpoint_rotate_secret"),
    path("<int:pk>/delete/", views.endpoint_delete, name="endpoint_delete"),
]
