from django.urls import path

from webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.endpoint_list, name="endpoint_list"),
    path("new/", views.endpoint_new, name="endpoint_new"),
    path("<int:pk>/", views.endpoint_detail, name="endpoint_detail"),
    *(
        path(
            f"<int:pk>/{action}/",
            views.endpoint_action,
            {"action": action},
            name=f"endpoint_{action.replace('-', '_')}",
        )
        for action in views.ACTIONS
    ),
    path("<int:pk>/delete/", views.endpoint_delete, name="endpoint_delete"),
]
