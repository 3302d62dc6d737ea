from django.urls import path, re_path

from inpaint.api import views

app_name = "api"

# DashScope's own paths (reference §1), under {app}/api/v1.
urlpatterns = [
    path("services/aigc/image2image/image-synthesis", views.task_create, name="task-create"),
    path("services/aigc/text2image/image-synthesis", views.text_to_image, name="text-to-image"),
    path("services/aigc/multimodal-generation/generation", views.generation_call, name="generation"),
    path("tasks/<str:task_id>", views.task_query, name="task-query"),
    path("tasks/<str:task_id>/cancel", views.task_cancel, name="task-cancel"),
    path("uploads", views.upload_policy, name="upload-policy"),
    path("uploads/files", views.upload, name="upload"),
    # The token is hidden in logs (inpaint.reporting); keep it right after this prefix.
    path("results/<str:token>/<str:filename>", views.result_link, name="result-link"),
    re_path(r"^(?P<path>.*)$", views.not_found, name="not-found"),
]
