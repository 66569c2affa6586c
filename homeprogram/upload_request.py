"""The request class: video uploads stream straight into the media storage.

For the endpoints in ``VIDEO_UPLOADS`` the body may be as large as a clip (the app's limit
stays small elsewhere), and werkzeug's multipart parser writes the file part, chunk by
chunk, into a named file in the media folder: the worker's memory does not grow with the
file, and the file is renamed into place instead of copied.
"""

from typing import IO, Any

from flask import Request

from homeprogram.services import media_storage, video

VIDEO_UPLOADS = frozenset({"media.upload_for_child", "media.upload_for_activity"})
# The clip plus the form's other fields and multipart framing.
VIDEO_REQUEST_LIMIT = video.MAX_BYTES + 1024 * 1024


class UploadAwareRequest(Request):
    @property
    def max_content_length(self) -> int | None:  # type: ignore[override]
        if self.endpoint in VIDEO_UPLOADS:
            return VIDEO_REQUEST_LIMIT
        return super().max_content_length

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        if self.endpoint in VIDEO_UPLOADS:
            return media_storage.storage().new_upload_file()
        return super()._get_file_stream(
            total_content_length, content_type, filename, content_length
        )


def uploaded_path(file_storage: Any) -> str | None:
    """The file a video upload was streamed into, or None (another kind of stream)."""
    stream = getattr(file_storage, "stream", None)
    name = getattr(stream, "name", None)
    return name if isinstance(name, str) else None
