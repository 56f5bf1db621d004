from django.urls import path

from catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.function_list, name="function_list"),
    path("new/", views.function_create_type, name="function_create"),
    path("new/<slug:type_slug>/build/", views.function_create_build, name="function_create_build"),
    path(
        "new/<slug:type_slug>/configure/",
        views.function_create_configure,
        name="function_create_configure",
    ),
    path("<str:function_id>/", views.function_detail, name="function_detail"),
    path("<str:function_id>/delete/", views.function_delete, name="function_delete"),
]
