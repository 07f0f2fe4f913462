from django.urls import path

from apps.files.api import views

urlpatterns = [
    path("files", views.FilesApi.as_view(), name="files"),
    path("files/<str:file_id>", views.FileDetailApi.as_view(), name="file-detail"),
    path("files/<str:file_id>/content", views.FileContentApi.as_view(), name="file-content"),
    path("files/<str:file_id>/thumbnail", views.FileThumbnailApi.as_view(), name="file-thumbnail"),
]
