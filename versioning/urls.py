from django.urls import path

from versioning import views

app_name = "versioning"
urlpatterns = [
    path("", views.history, name="history"),
    path("compare/", views.compare, name="compare"),
    path("compare/expand/", views.expand, name="expand"),
    path("undo/", views.undo, name="undo"),
    path("<str:version_id>/restore/", views.restore, name="restore"),
]
