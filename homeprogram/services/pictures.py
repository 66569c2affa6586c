"""Activity pictures: check an upload by its content, re-encode it, store it under a random name.

Re-encoding (rather than storing the upload) drops every piece of metadata, EXIF and GPS
location included, and means the stored file was produced by Pillow from decoded pixels.
"""

import os
import re
import secrets
import tempfile
import warnings
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from flask_babel import gettext
from PIL import Image, ImageOps, UnidentifiedImageError

from homeprogram.paths import private_folder
from homeprogram.services.errors import ValidationFailed

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # far above any phone photo, far below a decompression bomb
MAX_SIDE = 1200
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
STORED_SUFFIX = ".webp"
_NAME = re.compile(r"^[A-Za-z0-9_-]{22}\.webp$")


# The field messages are functions so each is translated for the request that reads it.
def not_a_picture() -> str:
    return gettext("This file is not a JPEG, PNG or WebP picture.")


def too_large() -> str:
    return gettext("The picture is larger than 5 MB. Choose a smaller one.")


def too_many_pixels() -> str:
    return gettext("The picture is too large (too many pixels). Choose a smaller one.")


def unreadable() -> str:
    return gettext("This picture could not be read; it may be damaged.")


def empty() -> str:
    return gettext("Choose a picture to upload.")


def _fail(message: str) -> ValidationFailed:
    return ValidationFailed({"picture": message})


def read_limited(stream: BinaryIO, limit: int = MAX_BYTES) -> bytes:
    """Read at most ``limit`` bytes, failing with a field message beyond that."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise _fail(too_large())
    if not data:
        raise _fail(empty())
    return data


def reencode(data: bytes) -> bytes:
    """The upload as a WebP of at most MAX_SIDE pixels a side, with no metadata.

    The type is decided by the content (Pillow's decoders), never by the file name or the
    declared Content-Type.
    """
    if len(data) > MAX_BYTES:
        raise _fail(too_large())
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; treat it as refusal.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(BytesIO(data), formats=ACCEPTED_FORMATS) as probe:
                width, height = probe.size
                if width * height > MAX_PIXELS:
                    raise _fail(too_many_pixels())
                probe.verify()
            with Image.open(BytesIO(data), formats=ACCEPTED_FORMATS) as image:
                image.load()
                return _encode(image)
        except UnidentifiedImageError as error:
            raise _fail(not_a_picture()) from error
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise _fail(too_many_pixels()) from error
        except (OSError, SyntaxError, ValueError, EOFError) as error:
            raise _fail(unreadable()) from error


def _encode(image: Image.Image) -> bytes:
    # Turn the pixels upright first: the orientation tag goes away with the rest of EXIF.
    upright = ImageOps.exif_transpose(image)
    mode = (
        "RGBA" if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info else "RGB"
    )
    clean = upright.convert(mode)
    clean.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = BytesIO()
    # A new image object carries no info dict of the original, so nothing is copied over.
    fresh = Image.new(mode, clean.size)
    fresh.paste(clean)
    fresh.save(out, format="WEBP", quality=82, method=4)
    return out.getvalue()


def store(folder: Path, data: bytes) -> str:
    """Write an encoded picture under a new random name; returns the name.

    The file is 0600 (``mkstemp``) in a 0700 folder: only the app's account may read it.
    """
    private_folder(folder)
    name = secrets.token_urlsafe(16) + STORED_SUFFIX
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, folder / name)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return name


def copy(folder: Path, name: str) -> str | None:
    """A copy of a stored picture under a new name (for a duplicated activity)."""
    source = path_of(folder, name)
    if source is None:
        return None
    return store(folder, source.read_bytes())


def path_of(folder: Path, name: str | None) -> Path | None:
    """The file of a stored picture, or None for a name we never produced or a missing file."""
    if not name or not _NAME.match(name):
        return None
    path = folder / name
    return path if path.is_file() else None


def delete(folder: Path, name: str | None) -> None:
    path = path_of(folder, name)
    if path is not None:
        path.unlink(missing_ok=True)
