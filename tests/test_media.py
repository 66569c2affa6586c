"""Therapists' videos end to end: a real clip uploaded through the form, streamed to the
media folder, transcoded by the job, watched with range requests; consent, refusals,
quota and deletion. The clips are made in the test with PyAV (tests/clips.py)."""

import io
import re
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import av
import pytest
from sqlalchemy import select

from homeprogram.extensions import db
from homeprogram.models import AuditEvent, ClipStatus, MediaClip, VideoConsent
from homeprogram.models.base import utcnow
from homeprogram.services import classroom, media, media_storage, programs
from homeprogram.services.audit import SYSTEM
from tests.clips import Clip


@pytest.fixture
def app_config() -> dict[str, Any]:
    # The job transcodes (the test runs it): no thread races the assertions.
    return {"MEDIA_WORKER": "scheduler", "MEDIA_QUOTA_MB": 50}


@pytest.fixture
def family(factory, session):
    org = factory.org()
    therapist = factory.therapist(org, email="t@media.test")
    child = factory.child(org, therapist=therapist, name="Lena")
    caregiver = factory.caregiver(child, email="p@media.test")
    teacher = factory.teacher(child, email="teach@media.test")
    activity = factory.activity(title="Sock practice")
    today = classroom.today_for(child, utcnow())
    assignment = factory.assignment(child, activity, start_date=today - timedelta(days=1))
    session.commit()
    return {
        "org": org,
        "therapist": therapist,
        "child": child,
        "caregiver": caregiver,
        "teacher": teacher,
        "activity": activity,
        "assignment": assignment,
    }


def _upload(client, child_id: int, activity_id: int, path: Path, **fields: Any):
    data = {"activity_id": str(activity_id), "title": "Heel first", **fields}
    with path.open("rb") as handle:
        data["video"] = (handle, path.name)
        return client.post(
            f"/children/{child_id}/clips", data=data, content_type="multipart/form-data"
        )


def _get(client, url: str, **kwargs: Any):
    """A GET whose body is read and whose file is closed (send_file streams it)."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


def _process(app) -> int:
    with app.app_context():
        return media.process_waiting(db.transaction, media_storage.storage(app))


def _clip(session) -> MediaClip:
    session.expire_all()
    return session.scalars(select(MediaClip).order_by(MediaClip.id.desc())).first()


def _media_files(app) -> list[str]:
    folder = Path(app.instance_path) / "media"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_an_uploaded_clip_is_transcoded_and_the_family_watches_it(
    app, client, login, session, family, tmp_path
):
    source = Clip(seconds=2, width=1280, height=720, fps=10).write(tmp_path / "phone.mov")
    login("t@media.test")
    response = _upload(client, family["child"].id, family["activity"].id, source)
    assert response.status_code == 302, response.get_data(as_text=True)
    clip = _clip(session)
    # Stored as it came, waiting: the request did not transcode.
    assert clip.status == ClipStatus.QUEUED and clip.upload_bytes == source.stat().st_size
    assert _media_files(app) == [f"{clip.key}.upload"]
    page = client.get(f"/children/{family['child'].id}").get_data(as_text=True)
    assert "Waiting to be prepared" in page and f'hx-get="/media/{clip.id}/status"' in page

    assert _process(app) == 1
    clip = _clip(session)
    assert clip.status == ClipStatus.READY and (clip.width, clip.height) == (1280, 720)
    assert _media_files(app) == sorted([f"{clip.key}.jpg", f"{clip.key}.mp4"])
    # The polled row now shows the player and stops polling.
    row = client.get(f"/media/{clip.id}/status").get_data(as_text=True)
    assert "<video" in row and "hx-trigger" not in row

    client = app.test_client()
    login("p@media.test", c=client)
    today = client.get(f"/children/{family['child'].id}/today").get_data(as_text=True)
    assert f'src="/media/{clip.id}/video.mp4"' in today and 'preload="none"' in today
    video = _get(client, f"/media/{clip.id}/video.mp4")
    assert video.status_code == 200 and video.mimetype == "video/mp4"
    assert video.headers["Cache-Control"].startswith("private")
    with av.open(io.BytesIO(video.data)) as container:
        assert container.streams.video[0].codec_context.name == "h264"


def test_range_requests_answer_206_with_the_part_asked_for(
    app, client, login, session, family, tmp_path
):
    source = Clip(seconds=2).write(tmp_path / "clip.mp4")
    login("t@media.test")
    _upload(client, family["child"].id, family["activity"].id, source)
    _process(app)
    clip = _clip(session)
    whole = _get(client, f"/media/{clip.id}/video.mp4").data
    part = _get(client, f"/media/{clip.id}/video.mp4", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert part.data == whole[100:200]
    tail = _get(client, f"/media/{clip.id}/video.mp4", headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.data == whole[-50:]
    beyond = client.get(
        f"/media/{clip.id}/video.mp4", headers={"Range": f"bytes={len(whole) + 10}-"}
    )
    assert beyond.status_code == 416


def test_a_file_that_is_not_a_video_is_refused_with_its_reason(
    app, client, login, session, family, tmp_path
):
    fake = tmp_path / "holiday.mp4"
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("notes.txt", "not a video")
    login("t@media.test")
    assert _upload(client, family["child"].id, family["activity"].id, fake).status_code == 302
    _process(app)
    clip = _clip(session)
    assert clip.status == ClipStatus.REFUSED and clip.reason == "not_a_video"
    assert _media_files(app) == []  # nothing kept of it
    page = client.get(f"/children/{family['child'].id}").get_data(as_text=True)
    assert "This file is not a video" in page
    assert _get(client, f"/media/{clip.id}/video.mp4").status_code == 404


def test_a_clip_that_shows_the_child_needs_the_familys_consent(
    app, client, login, session, family, tmp_path
):
    source = Clip(seconds=1).write(tmp_path / "clip.mp4")
    login("t@media.test")
    refused = _upload(client, family["child"].id, family["activity"].id, source, shows_child="y")
    assert refused.status_code == 400
    assert "has not agreed to videos that show Lena" in refused.get_data(as_text=True)
    assert session.scalar(select(MediaClip.id)) is None
    assert not [n for n in _media_files(app) if not n.startswith(".")]

    client = app.test_client()
    login("p@media.test", c=client)
    settings = client.get("/settings").get_data(as_text=True)
    assert "Allow videos that show Lena" in settings
    assert client.post(f"/children/{family['child'].id}/video-consent").status_code == 302
    consent = session.scalar(select(VideoConsent))
    assert consent.given_by_id == family["caregiver"].id and consent.revoked_at is None

    client = app.test_client()
    login("t@media.test", c=client)
    accepted = _upload(client, family["child"].id, family["activity"].id, source, shows_child="y")
    assert accepted.status_code == 302
    _process(app)
    clip = _clip(session)
    assert clip.shows_child and clip.status == ClipStatus.READY


def test_withdrawing_consent_hides_the_clips_at_once_and_housekeeping_deletes_them(
    app, client, login, session, family, tmp_path
):
    with app.app_context():
        media.give_consent(session, SYSTEM, family["child"])
    session.commit()
    source = Clip(seconds=1).write(tmp_path / "clip.mp4")
    login("t@media.test")
    _upload(client, family["child"].id, family["activity"].id, source, shows_child="y")
    _upload(client, family["child"].id, family["activity"].id, source)  # shows no child
    _process(app)
    shown, other = session.scalars(select(MediaClip).order_by(MediaClip.id)).all()
    shown_key, other_key = shown.key, other.key
    client = app.test_client()
    login("p@media.test", c=client)
    assert _get(client, f"/media/{shown.id}/video.mp4").status_code == 200
    assert client.post(f"/children/{family['child'].id}/video-consent/revoke").status_code == 302
    assert _get(client, f"/media/{shown.id}/video.mp4").status_code == 404  # hidden at once
    assert _get(client, f"/media/{other.id}/video.mp4").status_code == 200
    # Housekeeping after the grace period deletes the hidden clip's row and files.
    session.execute(
        MediaClip.__table__.update()
        .where(MediaClip.id == shown.id)
        .values(hidden_at=utcnow() - media.HIDDEN_GRACE - timedelta(seconds=1))
    )
    session.commit()
    with app.app_context():
        media.sweep(db.transaction, media_storage.storage(app), older_than_seconds=0)
    session.expire_all()
    assert session.scalar(select(MediaClip.id).where(MediaClip.key == shown_key)) is None
    assert not [n for n in _media_files(app) if n.startswith(shown_key)]
    assert [n for n in _media_files(app) if n.startswith(other_key)]


def test_teachers_see_only_classroom_activities_clips(
    app, client, login, session, family, factory, tmp_path
):
    source = Clip(seconds=1).write(tmp_path / "clip.mp4")
    login("t@media.test")
    _upload(client, family["child"].id, family["activity"].id, source)
    _process(app)
    clip = _clip(session)
    client = app.test_client()
    login("teach@media.test", c=client)
    assert _get(client, f"/media/{clip.id}/video.mp4").status_code == 404  # a home activity
    family["assignment"].setting = "both"
    session.commit()
    assert _get(client, f"/media/{clip.id}/video.mp4").status_code == 200


def test_the_quota_refuses_an_upload_that_does_not_fit(
    app, client, login, session, family, tmp_path
):
    app.config["MEDIA_QUOTA_MB"] = 0
    source = Clip(seconds=1).write(tmp_path / "clip.mp4")
    login("t@media.test")
    response = _upload(client, family["child"].id, family["activity"].id, source)
    assert response.status_code == 400
    assert "video storage is full" in response.get_data(as_text=True)
    assert session.scalar(select(MediaClip.id)) is None
    assert not [n for n in _media_files(app) if not n.startswith(".")]


def test_removing_the_assignment_deletes_its_clips(
    app, client, login, session, family, factory, tmp_path
):
    child = family["child"]
    upcoming = factory.assignment(
        child,
        factory.activity(title="Zip practice"),
        start_date=classroom.today_for(child, utcnow()) + timedelta(days=3),
    )
    session.commit()
    source = Clip(seconds=1).write(tmp_path / "clip.mp4")
    login("t@media.test")
    _upload(client, child.id, upcoming.activity_id, source)
    _process(app)
    clip = _clip(session)
    clip_id, key = clip.id, clip.key
    with app.app_context():
        programs.end_assignment(
            session,
            SYSTEM,
            session.get(type(upcoming), upcoming.id),
            last_day=classroom.today_for(child, utcnow()),
            today=classroom.today_for(child, utcnow()),
        )
        session.commit()
        session.expire_all()
        assert session.scalar(select(MediaClip.id).where(MediaClip.id == clip_id)) is None
        media.sweep(db.transaction, media_storage.storage(app), older_than_seconds=0)
    assert not [n for n in _media_files(app) if n.startswith(key)]


def test_the_therapist_deletes_a_clip_and_its_files_go(
    app, client, login, session, family, tmp_path
):
    source = Clip(seconds=1).write(tmp_path / "clip.mp4")
    login("t@media.test")
    _upload(client, family["child"].id, family["activity"].id, source)
    _process(app)
    clip_id = _clip(session).id
    assert client.post(f"/media/{clip_id}/delete").status_code == 302
    session.expire_all()
    assert session.scalar(select(MediaClip.id).where(MediaClip.id == clip_id)) is None
    assert _media_files(app) == []


def test_the_upload_streams_to_the_media_folder(app, client, login, family, tmp_path, monkeypatch):
    """The file part goes straight into a named file in the media folder, renamed into
    place: no copy, no buffer of the whole file in the worker."""
    opened: list[str] = []
    store_class = media_storage.FolderStorage
    original = store_class.new_upload_file

    def spy(self):
        handle = original(self)
        opened.append(handle.name)
        return handle

    monkeypatch.setattr(store_class, "new_upload_file", spy)
    source = Clip(seconds=1).write(tmp_path / "clip.mp4")
    login("t@media.test")
    _upload(client, family["child"].id, family["activity"].id, source)
    assert len(opened) == 1
    assert Path(opened[0]).parent == Path(app.instance_path) / "media"
    assert not Path(opened[0]).exists()  # renamed to the clip's key
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.upload", _media_files(app)[0])


def test_the_childs_videos_come_with_the_data_export(app, client, login, session, family, tmp_path):
    source = Clip(seconds=1).write(tmp_path / "clip.mp4")
    login("t@media.test")
    _upload(client, family["child"].id, family["activity"].id, source)
    _process(app)
    clip = _clip(session)
    exported = client.post(f"/org/children/{family['child'].id}/export")
    rows = exported.get_json()
    assert any(row["id"] == clip.id for row in rows["tables"]["media_clip"])
    archive = client.post(f"/org/children/{family['child'].id}/export/media")
    body = archive.get_data()
    archive.close()
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        assert sorted(z.namelist()) == [f"clip-{clip.id}.jpg", f"clip-{clip.id}.mp4"]
        stored = (Path(app.instance_path) / "media" / f"{clip.key}.mp4").read_bytes()
        assert z.read(f"clip-{clip.id}.mp4") == stored


def test_deleting_the_child_deletes_the_videos_and_their_files(
    app, client, login, session, family, tmp_path
):
    source = Clip(seconds=1).write(tmp_path / "clip.mp4")
    login("t@media.test")
    _upload(client, family["child"].id, family["activity"].id, source)
    _process(app)
    assert _media_files(app)
    response = client.post(
        f"/org/children/{family['child'].id}/delete", data={"confirm_name": "Lena"}
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.scalar(select(MediaClip.id)) is None
    assert _media_files(app) == []


def test_staff_watching_a_clip_is_in_the_audit_trail_once_per_playback(
    app, client, login, session, family, tmp_path
):
    source = Clip(seconds=1).write(tmp_path / "clip.mp4")
    login("t@media.test")
    _upload(client, family["child"].id, family["activity"].id, source)
    _process(app)
    clip_id = _clip(session).id

    def viewed() -> int:
        return len(
            session.scalars(select(AuditEvent).where(AuditEvent.action == "media.viewed")).all()
        )

    _get(client, f"/media/{clip_id}/video.mp4")
    _get(client, f"/media/{clip_id}/video.mp4", headers={"Range": "bytes=500-"})  # seeking
    assert viewed() == 1
    family_client = app.test_client()
    login("p@media.test", c=family_client)
    _get(family_client, f"/media/{clip_id}/video.mp4")
    assert viewed() == 1  # the family's own child: not a staff read
