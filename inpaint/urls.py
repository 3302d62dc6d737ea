from django.urls import path

from inpaint import views

app_name = "inpaint"

urlpatterns = [
    path("", views.studio, name="studio"),
    path("jobs/", views.job_create, name="job-create"),
    path("picture-preview/", views.picture_preview, name="picture-preview"),
    path("jobs/<uuid:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<uuid:pk>/cancel/", views.job_cancel, name="job-cancel"),
    path("jobs/<uuid:pk>/delete/", views.job_delete, name="job-delete"),
    path("jobs/<uuid:pk>/picture/", views.job_file, {"kind": "base"}, name="job-picture"),
    path("jobs/<uuid:pk>/mask/", views.job_file, {"kind": "mask"}, name="job-mask"),
    path("jobs/<uuid:pk>/picture/editor/", views.job_file_for_editor, {"kind": "base"}, name="job-picture-editor"),
    path("jobs/<uuid:pk>/results/<int:slot>/", views.job_file, {"kind": "result"}, name="job-result-file"),
    path("jobs/<uuid:pk>/results/<int:slot>/editor/", views.job_file_for_editor, {"kind": "result"},
         name="job-result-editor"),
    path("jobs/<uuid:pk>/results/<int:slot>/model-output/", views.job_file, {"kind": "raw"}, name="job-result-raw"),
    path("links/<str:token>/<str:filename>", views.media_link, name="media-link"),
]
