"""Built-in activities: the shipped data files, their checks, and syncing them to the database."""

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from homeprogram.extensions import db
from homeprogram.models import Activity, ActivityTranslation, FocusArea
from homeprogram.services import library
from homeprogram.services.library import BUILTIN_DIR, LibraryDataError, load_builtin


def _rows(session) -> list[tuple]:
    return list(
        session.execute(
            select(
                Activity.id,
                Activity.slug,
                Activity.language,
                Activity.title,
                Activity.steps,
                Activity.archived_at,
            ).order_by(Activity.id)
        )
    )


def _sync(app, directory: Path | None = None) -> tuple[int, int]:
    with app.app_context(), db.transaction() as s:
        return library.sync_builtin(s, directory)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A copy of the shipped data files that a test may change."""
    target = tmp_path / "activities"
    shutil.copytree(BUILTIN_DIR, target)
    return target


def _edit(data_dir: Path, area: str, slug: str, **changes) -> None:
    path = data_dir / f"{area}.json"
    items = json.loads(path.read_text())
    for item in items:
        if item["slug"] == slug:
            item.update(changes)
    path.write_text(json.dumps(items))


def test_shipped_library_covers_every_focus_area():
    """The shipped library has at least 60 activities, every one in a known focus area (at
    least 8 in each focus area is checked with the rest of the content bar, in
    test_library_content.py)."""
    items = load_builtin()
    assert len(items) >= 60
    per_area = Counter(item.values.focus_area for item in items)
    assert set(per_area) <= {area.value for area in FocusArea}
    for item in items:
        assert 3 <= len(item.values.steps) <= 6, item.slug
        assert item.values.materials and item.values.easier and item.values.harder, item.slug
        assert item.language == "en"


def test_shipped_library_covers_the_issue_topics():
    """Buttons, zippers, socks, shoes, toothbrushing, feeding, heavy work, wall push-ups and a
    calm-down corner are all in the library."""
    text = " ".join(f"{item.values.title} {item.values.summary}".lower() for item in load_builtin())
    for topic in (
        "button",
        "zipper",
        "sock",
        "shoe",
        "toothbrush",
        "spoon",
        "fork",
        "heavy work",
        "wall push-ups",
        "calm-down corner",
        "letter",
        "turn",
    ):
        assert topic in text, topic


def test_sync_twice_gives_the_same_rows(app, session):
    """Running the sync again creates and changes nothing."""
    created, updated = _sync(app)
    assert created == len(load_builtin())
    assert updated == 0
    before = _rows(session)
    assert _sync(app) == (0, 0)
    assert _rows(session) == before


def test_changed_title_updates_in_place(app, session, data_dir):
    """A title changed in the data file updates the same row (same id), nothing is duplicated."""
    _sync(app, data_dir)
    row_id = session.scalar(select(Activity.id).where(Activity.slug == "wall-push-ups"))
    count = session.scalar(select(func.count()).select_from(Activity))
    _edit(data_dir, "sensory", "wall-push-ups", title="Wall push-ups (strong arms)")

    assert _sync(app, data_dir) == (0, 1)
    session.expire_all()
    activity = session.get(Activity, row_id)
    assert activity.title == "Wall push-ups (strong arms)"
    assert session.scalar(select(func.count()).select_from(Activity)) == count


def test_removed_slug_is_archived_and_restored_when_back(app, session, data_dir, factory):
    """A built-in dropped from the files is archived, not deleted (assignments keep it);
    custom activities are left alone; putting it back restores it."""
    org = factory.org()
    custom = factory.activity(org, title="Our own")
    _sync(app, data_dir)
    path = data_dir / "sensory.json"
    original = path.read_text()
    items = [item for item in json.loads(original) if item["slug"] != "wall-push-ups"]
    path.write_text(json.dumps(items))

    assert _sync(app, data_dir) == (0, 1)
    session.expire_all()
    gone = session.scalar(select(Activity).where(Activity.slug == "wall-push-ups"))
    assert gone.archived_at is not None
    assert session.get(Activity, custom.id).archived_at is None
    assert _sync(app, data_dir) == (0, 0)

    path.write_text(original)
    assert _sync(app, data_dir) == (0, 1)
    session.expire_all()
    assert session.get(Activity, gone.id).archived_at is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "title: Enter a title."),
        ({"steps": ["Only one step."]}, "steps: needs 3 to 6 steps"),
        ({"age_min": 9, "age_max": 4}, "age_max: The oldest age"),
        ({"focus_area": "self_care"}, "the file is for 'sensory'"),
        ({"default_minutes": "five"}, "default_minutes must be of type int"),
        ({"colour": "red"}, "unknown field(s) colour"),
    ],
)
def test_bad_data_file_names_file_and_slug(data_dir, change, message):
    """A faulty activity stops the load with a message naming the file and the slug."""
    _edit(data_dir, "sensory", "wall-push-ups", **change)
    with pytest.raises(LibraryDataError) as raised:
        load_builtin(data_dir)
    assert "sensory.json: activity 'wall-push-ups':" in str(raised.value)
    assert message in str(raised.value)


def test_duplicate_slug_and_broken_json_are_reported(data_dir):
    """A slug defined twice, or a file that is not JSON, is named in the error."""
    items = json.loads((data_dir / "sensory.json").read_text())
    moved = dict(items[0], focus_area="gross_motor")
    gross = json.loads((data_dir / "gross_motor.json").read_text())
    (data_dir / "gross_motor.json").write_text(json.dumps([*gross, moved]))
    with pytest.raises(LibraryDataError, match="already defined in"):
        load_builtin(data_dir)
    (data_dir / "gross_motor.json").write_text("[{")
    with pytest.raises(LibraryDataError, match=r"gross_motor\.json: cannot be read as JSON"):
        load_builtin(data_dir)


def test_cli_sync_and_demo_load_the_library(runner, session):
    """`homeprogram library sync` loads the activities once; `demo` keeps them in sync."""
    result = runner.invoke(args=["library", "sync"])
    assert result.exit_code == 0, result.output
    assert f"{len(load_builtin())} created, 0 updated" in result.output
    items = load_builtin()
    stepped = sum(1 for item in items if item.values.step_picture_alts)
    assert f"Pictures: {len(items)} of {len(items)} activities, {stepped} with" in result.output
    again = runner.invoke(args=["library", "sync"])
    assert "0 created, 0 updated" in again.output
    demo = runner.invoke(args=["demo", "--no-serve"])
    assert demo.exit_code == 0, demo.output
    assert session.scalar(select(func.count()).select_from(Activity)) == len(load_builtin())


def test_translation_sits_beside_the_original(app, session, data_dir):
    """The same slug in another language is a separate activity; the original is untouched."""
    _sync(app, data_dir)
    items = json.loads((data_dir / "sensory.json").read_text())
    spanish = dict(items[0], language="es", title="Flexiones en la pared")
    (data_dir / "sensory.json").write_text(json.dumps([*items, spanish]))
    assert _sync(app, data_dir) == (1, 0)
    rows = session.execute(
        select(Activity.language, Activity.title)
        .where(Activity.slug == items[0]["slug"])
        .order_by(Activity.language)
    ).all()
    assert rows == [("en", items[0]["title"]), ("es", "Flexiones en la pared")]


def test_db_upgrade_syncs_the_library(runner, session):
    """`homeprogram db upgrade` also brings the built-in activities up to date."""
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert session.scalar(select(func.count()).select_from(Activity)) == len(load_builtin())


# --- translations: data/activities/<language>/<focus_area>.json --------------------------------


def _translations(session) -> dict[tuple[str, str], ActivityTranslation]:
    rows = session.execute(select(Activity.slug, ActivityTranslation).join(Activity.translations))
    return {(slug, t.language): t for slug, t in rows}


def test_every_built_in_activity_has_its_spanish_version(app, session):
    """Spanish ships for every built-in: same slugs, line for line (steps, materials, safety
    lines, classroom steps), and syncing again changes nothing."""
    _sync(app)
    english = {a.slug: a for a in session.scalars(select(Activity))}
    spanish = _translations(session)
    assert {slug for slug, language in spanish if language == "es"} == set(english)
    for (slug, _language), t in spanish.items():
        a = english[slug]
        assert len(t.steps) == len(a.steps) and len(t.materials) == len(a.materials), slug
        assert len(t.stop_if) == len(a.safety["stop_if"]), slug
        assert len(t.classroom_steps) == len(a.classroom_steps), slug
        assert t.title and t.title != a.title, slug
    before = {key: (t.id, t.title, t.steps) for key, t in spanish.items()}
    _sync(app)
    session.expire_all()
    assert {key: (t.id, t.title, t.steps) for key, t in _translations(session).items()} == before


def test_a_changed_translation_is_updated_in_place(app, session, data_dir):
    _sync(app, data_dir)
    path = data_dir / "es" / "sensory.json"
    items = json.loads(path.read_text())
    items[0]["title"] = "Un título nuevo"
    path.write_text(json.dumps(items, ensure_ascii=False))
    _sync(app, data_dir)
    session.expire_all()
    assert _translations(session)[(items[0]["slug"], "es")].title == "Un título nuevo"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda item: item["steps"].pop(), "steps: Write"),
        (lambda item: item.update(slug="no-such-activity"), "no built-in activity has this slug"),
        (lambda item: item.update(language="fr"), "language must be 'es'"),
        (lambda item: item.update(title=""), "title: Enter the title"),
        (lambda item: item.update(rationale="x"), "unknown field(s) rationale"),
    ],
)
def test_a_translation_that_does_not_match_its_original_is_refused(
    app, session, data_dir, change, message
):
    """The file and slug are named, and nothing is written."""
    path = data_dir / "es" / "sensory.json"
    items = json.loads(path.read_text())
    change(items[0])
    path.write_text(json.dumps(items, ensure_ascii=False))
    with pytest.raises(LibraryDataError, match=r"es/sensory\.json") as failure:
        _sync(app, data_dir)
    assert message in str(failure.value)
    assert session.scalar(select(func.count()).select_from(ActivityTranslation)) == 0
