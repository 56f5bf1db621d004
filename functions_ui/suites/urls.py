from django.urls import path

from functions_ui.suites import views

app_name = "suites"
urlpatterns = [
    path("behaviour/", views.behaviour_versions, name="behaviour"),
    path("behaviour/draft/", views.behaviour_draft, name="behaviour_draft"),
]
