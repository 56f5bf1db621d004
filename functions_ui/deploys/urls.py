from django.urls import path

from functions_ui.deploys import views

app_name = "deploys"
urlpatterns = [
    path("functions/<str:function_id>/deploys/", views.function_deploys, name="function"),
    path("functions/<str:function_id>/deploys/new/", views.deploy_create, name="deploy_create"),
    path(
        "functions/<str:function_id>/deploys/save/", views.save_and_deploy, name="save_and_deploy"
    ),
    path("functions/<str:function_id>/deploys/chooser/", views.deploy_chooser, name="chooser"),
    path("functions/<str:function_id>/deploys/status/", views.deploy_status, name="status"),
    path("functions/<str:function_id>/deploys/timeline/", views.deploy_timeline, name="timeline"),
    path("functions/<str:function_id>/deploys/instances/", views.instance_list, name="instances"),
    path("functions/<str:function_id>/connect/", views.instance_connect, name="connect"),
    path("instances/<str:instance_id>/", views.instance_detail, name="instance"),
    path(
        "instances/<str:instance_id>/settings/", views.instance_settings, name="instance_settings"
    ),
    path("instances/<str:instance_id>/rotate/", views.instance_rotate, name="instance_rotate"),
    path("instances/<str:instance_id>/enable/", views.instance_enable, name="instance_enable"),
    path("instances/<str:instance_id>/resume/", views.instance_resume, name="instance_resume"),
    path("instances/<str:instance_id>/canary/", views.canary_start, name="canary_start"),
    path("instances/<str:instance_id>/canary/end/", views.canary_finish, name="canary_finish"),
    path("instances/<str:instance_id>/sources/", views.instance_sources, name="instance_sources"),
    path("instances/<str:instance_id>/delete/", views.instance_delete, name="instance_delete"),
]
