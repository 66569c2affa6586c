"""Activity pictures: checked by content, re-encoded without metadata, served only to users
who may see them."""

import os
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from homeprogram.models import Activity, AuditEvent
from homeprogram.services import pictures
from homeprogram.services.errors import ValidationFailed


def _image_bytes(fmt: str, size=(640, 480), exif: Image.Exif | None = None, **kw) -> bytes:
    image = Image.new("RGB", size, (30, 120, 200))
    out = BytesIO()
    if exif is not None:
        kw["exif"] = exif
    image.save(out, format=fmt, **kw)
    return out.getvalue()


def _gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (41.0, 52.0, 30.0),
        ExifTags.GPS.GPSLongitudeRef: "W",
        ExifTags.GPS.GPSLongitude: (87.0, 37.0, 15.0),
    }
    return exif


@pytest.fixture
def org(factory):
    return factory.org()


@pytest.fixture
def therapist(factory, org, login):
    user = factory.therapist(org)
    login(user.email)
    return user


@pytest.fixture
def pictures_dir(app) -> Path:
    return Path(app.instance_path) / "pictures"


def _upload(client, activity_id: int, data: bytes, filename: str, content_type: str):
    # Encoded in memory: the test client would spool a large body to a temporary file that
    # nobody closes (a ResourceWarning, an error here).
    upload = FileStorage(BytesIO(data), filename=filename, content_type=content_type)
    boundary, body = encode_multipart(MultiDict({"picture": upload}))
    return client.post(
        f"/library/{activity_id}/picture",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def _status(client, url: str) -> int:
    with client.get(url) as response:  # closes the served file
        return response.status_code


def _stored_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*")) if folder.exists() else []


def test_upload_strips_gps_and_resizes(client, session, factory, org, therapist, pictures_dir):
    """A JPEG with GPS EXIF is stored re-encoded as WebP, at most 1200 px, with no metadata."""
    original = _image_bytes("JPEG", size=(3000, 2000), exif=_gps_exif())
    with Image.open(BytesIO(original)) as check:  # the test image really carries GPS data
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    activity = factory.activity(org)

    response = _upload(client, activity.id, original, "holiday.jpg", "image/jpeg")

    assert response.status_code == 302
    session.expire_all()
    name = session.get(Activity, activity.id).picture
    stored = pictures_dir / name
    assert _stored_files(pictures_dir) == [stored]
    raw = stored.read_bytes()
    assert b"Exif" not in raw
    assert b"PhoneMaker" not in raw
    with Image.open(stored) as image:
        assert image.format == "WEBP"
        assert max(image.size) == 1200
        assert not image.getexif()
        assert "exif" not in image.info
    with client.get(f"/library/{activity.id}/picture/{name}") as served:
        assert served.status_code == 200
        assert served.mimetype == "image/webp"
        assert served.data == raw
        assert "private" in served.headers["Cache-Control"]
    assert session.scalar(
        select(AuditEvent.action).where(AuditEvent.action == "activity.picture_set")
    )


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_are_accepted(client, session, factory, org, therapist, fmt):
    """PNG and WebP uploads are accepted too."""
    activity = factory.activity(org)
    response = _upload(client, activity.id, _image_bytes(fmt), "p.bin", "application/octet-stream")
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Activity, activity.id).picture


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "message"),
    [
        (_image_bytes("GIF"), "anim.gif", "image/gif", "not a JPEG, PNG or WebP"),
        (_image_bytes("BMP"), "photo.jpg", "image/jpeg", "not a JPEG, PNG or WebP"),
        (b"Shopping list: eggs, milk\n" * 20, "photo.jpg", "image/jpeg", "not a JPEG, PNG"),
        (_image_bytes("PNG")[:200], "cut.png", "image/png", "could not be read"),
        (b"", "empty.png", "image/png", "Choose a picture"),
    ],
    ids=["gif", "bmp-named-jpg", "text-named-jpg", "truncated-png", "empty"],
)
def test_bad_uploads_show_a_field_message(
    client, session, factory, org, therapist, pictures_dir, data, filename, content_type, message
):
    """Wrong types, renamed non-images and broken files are refused with a message, 400."""
    activity = factory.activity(org)
    response = _upload(client, activity.id, data, filename, content_type)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="picture-error"' in html
    assert message in html
    session.expire_all()
    assert session.get(Activity, activity.id).picture is None
    assert _stored_files(pictures_dir) == []


def test_no_file_chosen(client, factory, org, therapist):
    """Submitting the picture form without a file asks for one."""
    activity = factory.activity(org)
    response = client.post(f"/library/{activity.id}/picture", data={})
    assert response.status_code == 400
    assert "Choose a picture to upload." in response.get_data(as_text=True)


def test_file_over_5_mb_is_refused(client, session, factory, org, therapist, pictures_dir):
    """A file just over 5 MB gets the size message; so does one over the request limit."""
    activity = factory.activity(org)
    just_over = _image_bytes("JPEG") + os.urandom(pictures.MAX_BYTES)
    response = _upload(client, activity.id, just_over, "big.jpg", "image/jpeg")
    assert response.status_code == 400
    assert "larger than 5 MB" in response.get_data(as_text=True)

    far_over = os.urandom(7 * 1024 * 1024)
    response = _upload(client, activity.id, far_over, "huge.jpg", "image/jpeg")
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "larger than 5 MB" in html
    assert 'id="picture-error"' in html
    session.expire_all()
    assert session.get(Activity, activity.id).picture is None
    assert _stored_files(pictures_dir) == []


@pytest.mark.parametrize("size", [(8000, 6000), (10000, 10000)], ids=["48MP", "100MP"])
def test_decompression_bombs_are_refused(size):
    """Small files that decode to huge images are refused before decoding."""
    bomb = BytesIO()
    Image.new("1", size).save(bomb, format="PNG")
    assert len(bomb.getvalue()) < pictures.MAX_BYTES
    with pytest.raises(ValidationFailed) as raised:
        pictures.reencode(bomb.getvalue())
    assert "too many pixels" in raised.value.errors["picture"]


def test_replace_and_remove_picture(client, session, factory, org, therapist, pictures_dir):
    """A new picture replaces the old file; removing deletes it and the URL stops working."""
    activity = factory.activity(org)
    _upload(client, activity.id, _image_bytes("PNG"), "a.png", "image/png")
    session.expire_all()
    first = session.get(Activity, activity.id).picture
    _upload(client, activity.id, _image_bytes("JPEG"), "b.jpg", "image/jpeg")
    session.expire_all()
    second = session.get(Activity, activity.id).picture
    assert second != first
    assert _stored_files(pictures_dir) == [pictures_dir / second]

    response = client.post(f"/library/{activity.id}/picture/remove")
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Activity, activity.id).picture is None
    assert _stored_files(pictures_dir) == []
    assert _status(client, f"/library/{activity.id}/picture/{second}") == 404


def test_duplicate_copies_the_picture(client, session, factory, org, therapist, pictures_dir):
    """A duplicated activity gets its own copy of the picture file."""
    source = factory.activity(org, title="With picture")
    _upload(client, source.id, _image_bytes("PNG"), "a.png", "image/png")
    form = {
        "title": "Copy",
        "focus_area": "fine_motor",
        "age_min": "3",
        "age_max": "8",
        "steps": "One.",
        "default_minutes": "5",
    }
    assert client.post(f"/library/{source.id}/duplicate", data=form).status_code == 302
    session.expire_all()
    copy = session.scalar(select(Activity).where(Activity.title == "Copy"))
    original = session.get(Activity, source.id)
    assert copy.picture and copy.picture != original.picture
    assert (pictures_dir / copy.picture).read_bytes() == (
        pictures_dir / original.picture
    ).read_bytes()


def _with_picture(session, pictures_dir: Path, activity: Activity) -> str:
    name = pictures.store(pictures_dir, pictures.reencode(_image_bytes("PNG")))
    activity.picture = name
    session.add(activity)
    session.commit()
    return f"/library/{activity.id}/picture/{name}"


def test_who_may_see_a_custom_picture(client, session, factory, org, login, pictures_dir):
    """Own staff, and caregivers (or classroom teachers) of a child with the activity assigned
    see a custom picture; other organizations, other families and anonymous users get 404."""
    activity = factory.activity(org)
    url = _with_picture(session, pictures_dir, activity)
    child = factory.child(org)
    factory.assignment(child, activity, start_date=date(2026, 1, 5), setting="home")
    parent = factory.caregiver(child)
    home_teacher = factory.teacher(child)
    class_child = factory.child(org, name="Ada")
    factory.assignment(class_child, activity, start_date=date(2026, 1, 5), setting="both")
    class_teacher = factory.teacher(class_child)
    other_parent = factory.caregiver(factory.child(org, name="Bo"))
    staff = factory.therapist(org)
    outsider = factory.therapist(factory.org())

    assert _status(client, url) == 302  # anonymous: to the login page
    for user, status in [
        (staff, 200),
        (parent, 200),
        (class_teacher, 200),
        (home_teacher, 404),
        (other_parent, 404),
        (outsider, 404),
    ]:
        login(user.email)
        assert _status(client, url) == status, user.name
        client.post("/logout")


def test_builtin_picture_is_for_any_signed_in_user(
    client, session, factory, org, login, pictures_dir
):
    """A built-in activity's picture is served to any signed-in user, and a wrong name is 404."""
    builtin = factory.activity()
    url = _with_picture(session, pictures_dir, builtin)
    parent = factory.caregiver(factory.child(org))
    login(parent.email)
    assert _status(client, url) == 200
    assert _status(client, f"/library/{builtin.id}/picture/{'x' * 22}.webp") == 404
    assert _status(client, f"/library/{builtin.id}/picture/..%2Fsecret_key") == 404
