"""scripts/screenshots.py and scripts/make_icons.py: their command lines parse (no browser run)."""

import subprocess
import sys
from pathlib import Path

import pytest

from homeprogram import clock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import screenshots  # noqa: E402


def test_defaults_write_the_readme_screenshots_on_a_pinned_day():
    args = screenshots.parse_args([])
    assert args.out == ROOT / "docs" / "screenshots"
    assert clock.parse_instant(args.now).isoformat() == "2026-11-25T23:30:00+00:00"
    assert args.scale == 2 and args.colors == 256


def test_options_are_read(tmp_path):
    args = screenshots.parse_args(
        ["--out", str(tmp_path), "--now", "2027-03-13T15:00:00Z", "--scale", "1", "--colors", "64"]
    )
    assert (args.out, args.now, args.scale, args.colors) == (
        tmp_path,
        "2027-03-13T15:00:00Z",
        1,
        64,
    )


def test_a_bad_instant_is_refused_with_a_message(capsys):
    with pytest.raises(SystemExit) as exit:
        screenshots.parse_args(["--now", "yesterday"])
    assert exit.value.code == 2
    assert "HOMEPROGRAM_NOW: 'yesterday' is not an ISO 8601 instant" in capsys.readouterr().err


def test_help_runs_without_a_browser():
    for script in ("screenshots.py", "make_icons.py", "vendor_icons.py"):
        result = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / script), "--help"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "usage:" in result.stdout
