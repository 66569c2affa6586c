"""Where video clips live: one small interface, a folder by default.

A clip's files share a random key: ``<key>.upload`` (what was uploaded, until processed),
``<key>.mp4`` and ``<key>.jpg`` (the transcoded video and its poster). The folder is the
instance's ``media`` folder unless ``MEDIA_DIR`` names another (a volume every host mounts
when several serve). PyAV reads and writes files, so the interface hands out paths.
"""

import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol

from flask import Flask, current_app

from homeprogram.paths import private_folder

KINDS = ("upload", "mp4", "jpg")


class MediaStorage(Protocol):
    def new_upload_file(self) -> IO[bytes]:
        """An open, named file to stream an upload into (then given to :meth:`adopt`)."""
        ...

    def adopt(self, upload_path: Path, key: str) -> None:
        """Keep a streamed upload under ``key`` (from :func:`new_key`)."""
        ...

    def path(self, key: str, kind: str) -> Path: ...

    def size(self, key: str) -> int:
        """Bytes kept for a key (all its files)."""
        ...

    def delete(self, key: str) -> None: ...

    def stray_keys(self, older_than_seconds: float) -> Iterator[str]:
        """Keys with files, for housekeeping to compare with the database."""
        ...


class FolderStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _folder(self) -> Path:
        private_folder(self.root)
        return self.root

    def new_upload_file(self) -> IO[bytes]:
        return tempfile.NamedTemporaryFile(  # the caller closes it
            dir=self._folder(), prefix=".incoming-", delete=False
        )

    def adopt(self, upload_path: Path, key: str) -> None:
        os.replace(upload_path, self.path(key, "upload"))

    def path(self, key: str, kind: str) -> Path:
        if kind not in KINDS or not key.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"not a media file: {key!r} {kind!r}")
        return self._folder() / f"{key}.{kind}"

    def size(self, key: str) -> int:
        return sum(p.stat().st_size for kind in KINDS if (p := self.path(key, kind)).is_file())

    def delete(self, key: str) -> None:
        for kind in KINDS:
            self.path(key, kind).unlink(missing_ok=True)

    def stray_keys(self, older_than_seconds: float) -> Iterator[str]:
        limit = time.time() - older_than_seconds
        seen: set[str] = set()
        for path in self._folder().iterdir():
            if path.stat().st_mtime > limit:
                continue
            if path.name.startswith(".incoming-"):
                path.unlink(missing_ok=True)  # an upload whose request never finished
                continue
            key, _, kind = path.name.rpartition(".")
            if kind in KINDS and key not in seen:
                seen.add(key)
                yield key


def new_key() -> str:
    """A clip's random key, the name of its files."""
    return secrets.token_urlsafe(18)


def storage(app: Flask | None = None) -> MediaStorage:
    app = app or current_app
    configured = app.config.get("MEDIA_DIR")
    return FolderStorage(Path(configured) if configured else Path(app.instance_path) / "media")
