from django.urls import path

from functions_ui.permissions import views

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="list"),
    path("add/", views.member_add, name="add"),
    path("<int:membership_id>/", views.member_edit, name="edit"),
    path("<int:membership_id>/remove/", views.member_remove, name="remove"),
]
