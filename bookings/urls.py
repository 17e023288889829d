from django.urls import path

from bookings import session_views, views, waitlist_views

app_name = "bookings"
urlpatterns = [
    path("", views.my_bookings, name="my_bookings"),
    path("day/", views.staff_day, name="staff_day"),
    path("area/", views.area_day, name="area_day"),
    path("feed/reset/", views.feed_reset, name="feed_reset"),
    path("feed/<str:token>.ics", views.member_feed, name="member_feed"),
    path("machine/<slug:slug>/", views.machine_calendar, name="machine_calendar"),
    path("machine/<slug:slug>/grid/", views.week_grid, name="week_grid"),
    path("machine/<slug:slug>/new/", views.booking_new, name="booking_new"),
    path("machine/<slug:slug>/wait/", waitlist_views.wait_new, name="wait_new"),
    path("waits/<int:pk>/leave/", waitlist_views.wait_leave, name="wait_leave"),
    path("waits/<int:pk>/offer/", waitlist_views.wait_offer, name="wait_offer"),
    path("machine/<slug:slug>/maintenance/", views.maintenance_new, name="maintenance_new"),
    path("machine/<slug:slug>/feed/<str:token>.ics", views.machine_feed, name="machine_feed"),
    path("class/<int:pk>/move/", session_views.session_move, name="session_move"),
    path("class/<int:pk>/machines/", session_views.session_machines, name="session_machines"),
    path(
        "class/<int:pk>/machines/<slug:slug>/release/",
        session_views.session_machine_release,
        name="session_machine_release",
    ),
    path("<int:pk>/cancel/", views.booking_cancel, name="booking_cancel"),
    path("<int:pk>/done/", views.booking_finish, name="booking_finish"),
    path("<int:pk>/hand-over/", views.booking_hand_over, name="booking_hand_over"),
    path("<int:pk>/extend/", views.booking_extend, name="booking_extend"),
    path("<int:pk>/check-in/", views.booking_check_in, name="booking_check_in"),
]
