from django.urls import path

from functions_ui.editor import views

app_name = "editor"
urlpatterns = [
    path("", views.edit, name="edit"),
    path("save/", views.save, name="save"),
    path("run/", views.run, name="run"),
    path("settings/", views.settings_panel, name="settings"),
    path("settings/add/", views.setting_add, name="setting_add"),
    path("settings/name-preview/", views.setting_name_preview, name="setting_name_preview"),
    path("settings/<int:setting_id>/edit/", views.setting_edit, name="setting_edit"),
    path("settings/<int:setting_id>/delete/", views.setting_delete, name="setting_delete"),
    path("settings/<int:setting_id>/move/", views.setting_move, name="setting_move"),
    path(
        "settings/<int:setting_id>/test-value/", views.setting_test_value, name="setting_test_value"
    ),
    path("test-values/", views.test_values, name="test_values"),
    path("samples/", views.sample_event, name="sample_event"),
    path("header-row/", views.header_row, name="header_row"),
    path("payloads/", views.payload_save, name="payload_save"),
    path("templates/<slug:starter_slug>/extras/", views.starter_extras, name="starter_extras"),
    path("payloads/<int:payload_id>/", views.payload_load, name="payload_load"),
    path("payloads/<int:payload_id>/delete/", views.payload_delete, name="payload_delete"),
    path("capture/", views.capture_poll, name="capture_poll"),
    path("capture/url/", views.test_webhook_create, name="test_webhook_create"),
]
