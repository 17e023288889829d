from django.urls import path

from training import views

app_name = "training"
urlpatterns = [
    path("", views.class_list, name="class_list"),
    path("mine/", views.my_certifications, name="my_certifications"),
    path("sessions/<int:pk>/", views.session_detail, name="session_detail"),
    path("sessions/<int:pk>/enroll/", views.session_enroll, name="session_enroll"),
    path("sessions/<int:pk>/roster/", views.roster, name="roster"),
    path("sessions/<int:pk>/cancel/", views.session_cancel, name="session_cancel"),
    path("sessions/new/", views.session_create, name="session_create"),
    path("series/new/", views.series_create, name="series_create"),
    path("enrollments/<int:pk>/cancel/", views.enrollment_cancel, name="enrollment_cancel"),
    path("enrollments/<int:pk>/pay/", views.enrollment_pay, name="enrollment_pay"),
    path("enrollments/<int:pk>/cash/", views.enrollment_fee_cash, name="enrollment_fee_cash"),
    path("enrollments/<int:pk>/guests/", views.guest_bring, name="guest_bring"),
    path("guest-seats/<int:pk>/cancel/", views.guest_seat_cancel, name="guest_seat_cancel"),
    path("certifications/<int:pk>/request/", views.request_training, name="request_training"),
    path("teaching/", views.instructor_sessions, name="instructor_sessions"),
    path("sign-off/", views.sign_off, name="sign_off"),
    path("grants/<int:pk>/revoke/", views.revoke, name="revoke"),
    path("demand/", views.demand_queue, name="demand_queue"),
]
