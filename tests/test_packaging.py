"""A plain (non-editable) wheel install serves pages, static files and migrations."""

import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_install_serves_pages(tmp_path):
    """The wheel carries templates, static files and migrations, and the app works from it."""
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheel_dir),
            str(ROOT),
        ],
        check=True,
    )
    wheel = next(wheel_dir.glob("homeprogram-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "homeprogram/templates/base.html" in names
    assert "homeprogram/static/css/app.css" in names
    # The brand and the icon sprite (with its licence) ship; the docs and their screenshots do not.
    assert "homeprogram/static/icons/app-icon.svg" in names
    assert "homeprogram/static/vendor/lucide-1.62.0/sprite.svg" in names
    assert "homeprogram/static/vendor/lucide-1.62.0/LICENSE" in names
    assert "homeprogram/templates/partials/icons.html" in names
    assert not any("screenshots/" in n for n in names)
    assert any(n.startswith("homeprogram/migrations/versions/") for n in names)
    # The catalogs are compiled by the build (the .mo files are not in git), the Spanish
    # activities ship beside the English ones.
    assert "homeprogram/translations/es/LC_MESSAGES/messages.mo" in names
    assert "homeprogram/data/activities/es/self_care.json" in names

    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    script = textwrap.dedent(
        """
        import homeprogram, sys
        from homeprogram import create_app, paths
        from homeprogram.migrations_runner import upgrade
        assert homeprogram.__file__.startswith(sys.argv[1]), homeprogram.__file__
        url = "sqlite:///" + sys.argv[2] + "/db.sqlite3"
        upgrade(url)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x"})
        client = app.test_client()
        login = client.get("/login")
        assert login.status_code == 200 and b"Log in" in login.data, login.status_code
        spanish = client.get("/login", headers={"Accept-Language": "es"})
        assert '<html lang="es">' in spanish.get_data(as_text=True)
        assert "Iniciar sesión" in spanish.get_data(as_text=True)
        css = client.get("/static/css/app.css")
        assert css.status_code == 200 and b"--brand" in css.data
        assert client.get("/healthz").status_code == 200
        print("wheel ok", paths.TEMPLATES_DIR)
        """
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", script, str(target), str(work)],
        cwd=work,
        env={
            "PYTHONPATH": str(target),
            "HOMEPROGRAM_INSTANCE_PATH": str(work / "instance"),
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"wheel ok {target}" in result.stdout
