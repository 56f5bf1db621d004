from django.urls import path

from functions_ui.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.audit_list, name="event_list"),
]
