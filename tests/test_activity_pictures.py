"""The library's illustrations: every activity has its picture, sequences have one per step,
every picture has its words in every language, and families, teachers and therapists see
them where they read the activity."""

import gzip
import json
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from homeprogram import illustrations
from homeprogram.models import Activity
from homeprogram.models.base import utcnow
from homeprogram.services import classroom, library
from homeprogram.services.library import BUILTIN_DIR, PICTURES, LibraryDataError

PICTURE_DIR = BUILTIN_DIR / PICTURES


def _items(folder: Path) -> list[dict]:
    return [item for path in sorted(folder.glob("*.json")) for item in json.loads(path.read_text())]


ENGLISH = _items(BUILTIN_DIR)
TRANSLATED = {
    folder.name: {item["slug"]: item for item in _items(folder)}
    for folder in BUILTIN_DIR.iterdir()
    if folder.is_dir() and folder.name != PICTURES
}


def test_every_built_in_activity_has_its_picture_with_words_in_every_language():
    missing = [a["slug"] for a in ENGLISH if not (PICTURE_DIR / f"{a['slug']}.svg").is_file()]
    assert not missing, f"activities without a picture: {missing}"
    for item in ENGLISH:
        assert 20 <= len(item["picture_alt"]) <= 160, item["slug"]
        for language, items in TRANSLATED.items():
            translated = items.get(item["slug"])
            if translated is not None:
                assert translated["picture_alt"], (language, item["slug"])
                assert translated["picture_alt"] != item["picture_alt"], (language, item["slug"])


def test_sequences_have_a_picture_for_every_step_with_its_words():
    pictured = [a for a in ENGLISH if a.get("step_picture_alts")]
    assert len(pictured) >= 20
    for item in pictured:
        steps = len(item["steps"])
        files = [PICTURE_DIR / f"{item['slug']}-step-{n}.svg" for n in range(1, steps + 1)]
        assert all(f.is_file() for f in files), item["slug"]
        assert len(item["step_picture_alts"]) == steps and all(item["step_picture_alts"])
        for language, items in TRANSLATED.items():
            alts = items[item["slug"]]["step_picture_alts"]
            assert len(alts) == steps and all(alts), (language, item["slug"])
    # No step picture without its activity's words.
    steps_of = [illustrations.step_of(path) for path in PICTURE_DIR.glob("*-step-*.svg")]
    stray = [step for step in steps_of if step and step[0] not in {a["slug"] for a in pictured}]
    assert not stray


def test_every_illustration_follows_the_style_rules_and_the_size_budget():
    files = sorted(PICTURE_DIR.glob("*.svg"))
    assert len(files) >= len(ENGLISH) + 20 * 3
    broken = {path.name: illustrations.problems(path) for path in files}
    assert not {name: found for name, found in broken.items() if found}
    largest = max(len(gzip.compress(path.read_bytes(), 9)) for path in files)
    assert largest <= illustrations.MAX_GZIPPED_BYTES


@pytest.mark.parametrize(
    "content, problem",
    [
        (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 160 120"><script/></svg>',
            "<script>",
        ),
        (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 160 120">'
            '<image href="https://example.org/x.png"/></svg>',
            "<image>",
        ),
        (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 160 120">'
            '<rect onload="alert(1)" width="5" height="5"/></svg>',
            '"onload"',
        ),
        (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 160 120">'
            '<text x="5" y="5">Hi</text></svg>',
            "<text>",
        ),
        (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 160 120">'
            '<rect fill="#ff0000" width="5" height="5"/></svg>',
            "palette",
        ),
        ('<!DOCTYPE svg [<!ENTITY x "y">]><svg/>', "DOCTYPE"),
        ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"/>', "viewBox"),
    ],
)
def test_the_rules_refuse_what_could_fetch_run_or_break_the_style(tmp_path, content, problem):
    path = tmp_path / "bad.svg"
    path.write_text(content)
    assert any(problem in found for found in illustrations.problems(path))


def _library_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "activities"
    shutil.copytree(BUILTIN_DIR, copy)
    return copy


def test_library_sync_refuses_a_picture_without_its_words(tmp_path):
    copy = _library_copy(tmp_path)
    path = copy / "sensory.json"
    items = json.loads(path.read_text())
    del items[0]["picture_alt"]
    path.write_text(json.dumps(items))
    with pytest.raises(LibraryDataError, match="needs its picture_alt"):
        library.load_builtin(copy)


def test_library_sync_refuses_a_missing_step_picture(tmp_path):
    copy = _library_copy(tmp_path)
    slug = next(a["slug"] for a in ENGLISH if a.get("step_picture_alts"))
    (copy / PICTURES / f"{slug}-step-2.svg").unlink()
    with pytest.raises(LibraryDataError, match="step pictures for"):
        library.load_builtin(copy)


def test_sync_stores_each_pictures_version_and_a_changed_picture_gets_a_new_one(
    app, session, tmp_path
):
    copy = _library_copy(tmp_path)
    with app.app_context():
        library.sync_builtin(session, copy)
        session.commit()
        activity = session.scalar(select(Activity).where(Activity.slug == "wall-push-ups"))
        before = activity.illustration
        assert re.fullmatch(r"[0-9a-f]{8}", before)
        picture = copy / PICTURES / "wall-push-ups.svg"
        picture.write_text(picture.read_text().replace('stroke-width="3"', 'stroke-width="2"', 1))
        library.sync_builtin(session, copy)
        session.commit()
        session.refresh(activity)
        assert activity.illustration not in (None, before)


@pytest.fixture
def synced(app, session):
    with app.app_context():
        library.sync_builtin(session)
        session.commit()


def test_the_illustration_is_served_as_a_cached_svg_to_signed_in_people(
    app, client, login, factory, session, synced
):
    therapist = factory.therapist(email="pictures@a.test")
    session.commit()
    activity = session.scalar(select(Activity).where(Activity.slug == "wall-push-ups"))
    url = f"/library/illustrations/wall-push-ups.svg?v={activity.illustration}"
    assert client.get(url).status_code == 302  # signed out: to the login page
    login(therapist.email)
    response = client.get(url)
    svg = response.get_data()
    response.close()
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert "immutable" in response.headers["Cache-Control"]
    assert svg == (PICTURE_DIR / "wall-push-ups.svg").read_bytes()
    assert client.get("/library/illustrations/..%2Fsensory.svg").status_code == 404
    assert client.get("/library/illustrations/no-such-activity.svg").status_code == 404


def test_families_teachers_and_therapists_see_the_pictures(
    app, client, login, factory, session, synced
):
    org = factory.org()
    therapist = factory.therapist(org, email="t@pictures.test")
    child = factory.child(org, therapist=therapist, name="Ari")
    factory.caregiver(child, email="p@pictures.test")
    factory.teacher(child, email="teach@pictures.test")
    sequence = session.scalar(select(Activity).where(Activity.slug == "handwashing-sequence"))
    classroom_one = session.scalar(
        select(Activity).where(Activity.slug == "wall-push-ups", Activity.language == "en")
    )
    today = classroom.today_for(child, utcnow())
    factory.assignment(child, sequence, start_date=today - timedelta(days=1))
    factory.assignment(child, classroom_one, start_date=today - timedelta(days=1), setting="both")
    session.commit()
    step_alt = sequence.step_picture_alts[0]

    login("p@pictures.test")
    page = client.get(f"/children/{child.id}/today").get_data(as_text=True)
    assert f"/library/illustrations/handwashing-sequence.svg?v={sequence.illustration}" in page
    assert (
        f"/library/illustrations/handwashing-sequence-step-1.svg?v={sequence.illustration}" in page
    )
    assert f'alt="{step_alt}"' in page.replace("&#39;", "'")
    # Lazy: nothing is fetched before it is on screen.
    assert all(
        'loading="lazy"' in tag for tag in re.findall(r"<img [^>]*illustrations[^>]*>", page)
    )

    client_t = app.test_client()
    login("t@pictures.test", c=client_t)
    handout = client_t.get(f"/children/{child.id}/handout").get_data(as_text=True)
    assert "handwashing-sequence-step-5.svg" in handout and "handout-picture" in handout
    library_page = client_t.get("/library/?q=handwashing").get_data(as_text=True)
    assert "handwashing-sequence.svg" in library_page
    picker = client_t.get(f"/children/{child.id}/program/picker?q=handwashing").get_data(
        as_text=True
    )
    assert "handwashing-sequence.svg" in picker

    client_s = app.test_client()
    login("teach@pictures.test", c=client_s)
    sheet = client_s.get(f"/students/{child.id}/sheet").get_data(as_text=True)
    assert f"wall-push-ups.svg?v={classroom_one.illustration}" in sheet
