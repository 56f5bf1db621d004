from django.urls import path

from functions_ui.suites import views

app_name = "suites"
# Under a workspace: what replays an instance's real events (the rest are under a function).
instance_patterns = [
    path("instances/<str:instance_id>/replay/", views.replay, name="replay"),
]
urlpatterns = [
    path("behaviour/", views.behaviour_versions, name="behaviour"),
    path("behaviour/draft/", views.behaviour_draft, name="behaviour_draft"),
    path("tests/run/", views.suite_check_draft, name="suite_check"),
    path(
        "tests/payloads/<int:payload_id>/expect/",
        views.expectation_capture,
        name="expectation_capture",
    ),
    path(
        "tests/payloads/<int:payload_id>/smoke/",
        views.expectation_smoke,
        name="expectation_smoke",
    ),
    path(
        "tests/payloads/<int:payload_id>/clear/",
        views.expectation_clear,
        name="expectation_clear",
    ),
    path("tests/versions/<str:version_id>/", views.suite_run_version, name="suite_run"),
]
