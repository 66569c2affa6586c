"""Files holding children's data are readable by their owner only: the instance folder is
0700 and the database, its -wal/-shm, backups and pictures are 0600, whatever the umask."""

import os
import socket
import stat
import subprocess
import sys
import time
from io import BytesIO
from pathlib import Path

import pytest
import requests
from PIL import Image
from sqlalchemy import select, text
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from homeprogram import clock
from homeprogram.db import make_engine
from homeprogram.models import Activity
from homeprogram.services import backup
from tests.skips import sqlite_only

HOMEPROGRAM = str(Path(sys.executable).with_name("homeprogram"))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """The usual umask of a login shell: new files 0644, folders 0755 unless we say so."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _environment(instance: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMEPROGRAM_")}
    env.update(
        HOMEPROGRAM_INSTANCE_PATH=str(instance),
        HOMEPROGRAM_NOW=clock.now().isoformat(),
        **extra,
    )
    return env


def _run(*args: str, instance: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HOMEPROGRAM, *args],
        env=_environment(instance),
        capture_output=True,
        text=True,
        timeout=120,
        # A shell's usual umask, so that only our own code can make the modes private.
        preexec_fn=lambda: os.umask(0o022),
    )


def test_db_upgrade_makes_a_private_instance(tmp_path):
    """`homeprogram db upgrade` on a new instance: folder 0700, database and key 0600."""
    instance = tmp_path / "instance"
    result = _run("db", "upgrade", instance=instance)
    assert result.returncode == 0, result.stderr
    assert _mode(instance) == 0o700
    files = [p for p in instance.rglob("*") if p.is_file()]
    assert instance / "homeprogram.sqlite3" in files
    assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}


@sqlite_only
def test_the_database_its_wal_and_shm_are_0600_under_an_open_umask(tmp_path, open_umask):
    """A new SQLite database written in WAL mode: the file, -wal and -shm are all 0600."""
    path = tmp_path / "new.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        with engine.connect() as conn:  # the WAL stays while a connection is open
            conn.execute(text("SELECT * FROM t")).all()
            wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
            assert wal.exists() and shm.exists()
            assert [_mode(path), _mode(wal), _mode(shm)] == [0o600, 0o600, 0o600]
    finally:
        engine.dispose()


@sqlite_only
def test_a_backup_to_another_folder_is_0600(database_url, tmp_path, open_umask):
    """`homeprogram backup` into a new folder elsewhere: folder 0700, file 0600."""
    destination = tmp_path / "elsewhere" / "nightly" / "homeprogram-backup.sqlite3"
    written = backup.backup(database_url, destination)
    assert _mode(written) == 0o600
    assert _mode(destination.parent) == 0o700


def _picture() -> bytes:
    out = BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def test_an_uploaded_picture_and_its_copy_are_0600_in_a_0700_folder(
    app, client, session, factory, login, open_umask
):
    """A picture upload (and the copy a duplicated activity gets): 0600 files in a 0700
    pictures folder inside a 0700 instance folder."""
    org = factory.org()
    login(factory.therapist(org).email)
    activity = factory.activity(org, title="With picture")
    upload = FileStorage(BytesIO(_picture()), filename="a.png", content_type="image/png")
    boundary, body = encode_multipart(MultiDict({"picture": upload}))
    response = client.post(
        f"/library/{activity.id}/picture",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code in (200, 302), response.get_data(as_text=True)
    form = {
        "title": "Copy",
        "focus_area": "fine_motor",
        "age_min": "3",
        "age_max": "8",
        "steps": "One.",
        "default_minutes": "5",
    }
    assert client.post(f"/library/{activity.id}/duplicate", data=form).status_code == 302
    session.expire_all()
    names = session.scalars(select(Activity.picture).where(Activity.picture.is_not(None))).all()
    folder = Path(app.instance_path) / "pictures"
    assert len(names) == 2
    assert [_mode(folder / name) for name in names] == [0o600, 0o600]
    assert (_mode(folder), _mode(folder.parent)) == (0o700, 0o700)


def test_serve_warns_once_about_files_others_can_read(tmp_path):
    """`homeprogram serve` on an instance with a 0644 database: one warning line naming it
    and the chmod that fixes it; the server still starts."""
    instance = tmp_path / "instance"
    assert _run("db", "upgrade", instance=instance).returncode == 0
    database = instance / "homeprogram.sqlite3"
    database.chmod(0o644)
    port = _free_port()
    server = subprocess.Popen(
        [HOMEPROGRAM, "serve", "--port", str(port), "--no-scheduler", "--threads", "2"],
        env=_environment(instance),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "serve did not answer"
            time.sleep(0.2)
    finally:
        server.terminate()
        stdout, stderr = server.communicate(timeout=30)
    warnings = [line for line in stderr.splitlines() if "chmod" in line]
    assert len(warnings) == 1, stderr
    assert "homeprogram.sqlite3" in warnings[0]
    assert f"chmod -R go= {instance}" in warnings[0]
    assert "Serving on" in stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
