from django.urls import path

from inpaint import batch_views, key_views, room_views, views

app_name = "inpaint"

urlpatterns = [
    path("", views.studio, name="studio"),
    path("jobs/", views.job_create, name="job-create"),
    path("picture-preview/", views.picture_preview, name="picture-preview"),
    path("jobs/<uuid:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<uuid:pk>/cancel/", views.job_cancel, name="job-cancel"),
    path("jobs/<uuid:pk>/send-again/", views.job_send_again, name="job-send-again"),
    path("jobs/<uuid:pk>/delete/", views.job_delete, name="job-delete"),
    path("jobs/<uuid:pk>/picture/", views.job_file, {"kind": "base"}, name="job-picture"),
    path("jobs/<uuid:pk>/mask/", views.job_file, {"kind": "mask"}, name="job-mask"),
    path("jobs/<uuid:pk>/picture/editor/", views.job_file_for_editor, {"kind": "base"}, name="job-picture-editor"),
    path("jobs/<uuid:pk>/results/<int:slot>/", views.job_file, {"kind": "result"}, name="job-result-file"),
    path("jobs/<uuid:pk>/results/<int:slot>/editor/", views.job_file_for_editor, {"kind": "result"},
         name="job-result-editor"),
    path("jobs/<uuid:pk>/results/<int:slot>/part/", views.job_result_part, name="job-result-part"),
    path("jobs/<uuid:pk>/results/<int:slot>/model-output/", views.job_file, {"kind": "raw"}, name="job-result-raw"),
    path("batches/", batch_views.batch_create, name="batch-create"),
    path("batches/<uuid:pk>/", batch_views.batch_detail, name="batch-detail"),
    path("batches/<uuid:pk>/photos/", batch_views.batch_photo_add, name="batch-photo-add"),
    path("batches/<uuid:pk>/cancel/", batch_views.batch_cancel, name="batch-cancel"),
    path("batches/<uuid:pk>/retry/", batch_views.batch_retry, name="batch-retry"),
    path("batches/<uuid:pk>/results.zip", batch_views.batch_download, name="batch-download"),
    path("links/<str:token>/<str:filename>", views.media_link, name="media-link"),
    path("api-keys/", key_views.api_key_list, name="api-keys"),
    path("api-keys/<int:pk>/revoke/", key_views.api_key_revoke_view, name="api-key-revoke"),
    path("rooms/", room_views.room_list, name="room-list"),
    path("rooms/<int:pk>/", room_views.room_detail, name="room-detail"),
    path("rooms/<int:pk>/links/", room_views.room_links_rotate, name="room-links-rotate"),
    path("rooms/<int:pk>/close/", room_views.room_close, name="room-close"),
    path("rooms/<int:pk>/entries/<str:ref>/hide/", room_views.room_entry_hide, name="room-entry-hide"),
    path("rooms/<int:pk>/entries/<str:ref>/<str:kind>/", room_views.room_entry_image, name="room-entry-image"),
    # The join and wall tokens are hidden in logs (inpaint.reporting); keep them right after these prefixes.
    path("rooms/join/<str:token>/", room_views.room_join, name="room-join"),
    path("rooms/wall/<str:token>/", room_views.room_wall, name="room-wall"),
    path("rooms/wall/<str:token>/<str:ref>/<str:kind>/", room_views.room_wall_image, name="room-wall-image"),
]
