"""The icon sprite: each icon a template names exists, the licence ships, icons are accessible."""

import re
import sys
from pathlib import Path
from xml.etree import ElementTree

from flask import render_template_string
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor" / "lucide-1.62.0"
SPRITE = VENDOR / "sprite.svg"
SPRITE_URL = "/static/vendor/lucide-1.62.0/sprite.svg"
# {{ icon("home") }}, icon('alert', _("Warning")), icon( "star", class="big")
ICON_CALL = re.compile(r"""\bicon\(\s*["']([^"']+)["']""")

sys.path.insert(0, str(ROOT / "scripts"))
import vendor_icons  # noqa: E402


def _symbol_ids() -> set[str]:
    root = ElementTree.parse(SPRITE).getroot()  # noqa: S314 (our own vendored file)
    return {symbol.get("id") for symbol in root.iter("{http://www.w3.org/2000/svg}symbol")}


def _names_used() -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    for template in (ROOT / "templates").rglob("*.html"):
        if template.name == "icons.html":
            continue  # the macro's own usage examples
        for name in ICON_CALL.findall(template.read_text()):
            used.setdefault(name, set()).add(str(template.relative_to(ROOT)))
    return used


def test_every_icon_used_in_a_template_is_in_the_sprite():
    missing = {
        name: sorted(where) for name, where in _names_used().items() if name not in _symbol_ids()
    }
    assert not missing, f"icons not in {SPRITE.relative_to(ROOT)}: {missing}"


def test_the_sprite_holds_exactly_the_listed_icons():
    """The sprite is what scripts/vendor_icons.py builds: no hand-edited or stale symbols."""
    assert _symbol_ids() == set(vendor_icons.ICONS)


def test_the_icon_set_ships_with_its_licence_and_is_listed():
    licence = (VENDOR / "LICENSE").read_text()
    assert "ISC License" in licence
    listing = (ROOT / "static" / "vendor" / "README.md").read_text()
    assert "lucide-static@1.62.0" in listing and "lucide-1.62.0/LICENSE" in listing


def test_a_decorative_icon_is_hidden_from_screen_readers(app):
    with app.test_request_context():
        html = render_template_string(
            '{% from "partials/icons.html" import icon %}{{ icon("home") }}'
        )
    assert 'aria-hidden="true"' in html
    assert "role=" not in html and "<title>" not in html
    assert f'<use href="{SPRITE_URL}#home"></use>' in html


def test_a_labelled_icon_is_an_image_with_its_name(app):
    with app.test_request_context():
        html = render_template_string(
            '{% from "partials/icons.html" import icon %}'
            '{{ icon("alert", "Careful <now>", class="icon--big") }}'
        )
    assert 'role="img"' in html and "aria-hidden" not in html
    assert "<title>Careful &lt;now&gt;</title>" in html
    assert 'class="icon icon--big"' in html


def test_the_sprite_is_served_from_our_origin(client):
    with client.get(SPRITE_URL) as response:
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        # Same-origin <use href> needs nothing beyond the default policy.
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_brand_colour_is_the_same_everywhere(client):
    """Manifest, icons and the design tokens agree on the primary colour and the background."""
    manifest = client.get("/manifest.webmanifest").get_json(force=True)
    tokens = "\n".join(path.read_text() for path in sorted((ROOT / "static" / "css").glob("*.css")))
    primary = re.search(r"--color-primary:\s*(#[0-9a-fA-F]{6})", tokens)
    background = re.search(r"--color-bg:\s*(#[0-9a-fA-F]{6})", tokens)
    assert primary and background, "no --color-primary / --color-bg token"
    assert manifest["theme_color"] == primary.group(1).lower()
    assert manifest["background_color"] == background.group(1).lower()
    for name in ("app-icon.svg", "favicon.svg", "logo.svg", "logo-dark.svg"):
        svg = (ROOT / "static" / "icons" / name).read_text()
        assert f'fill="{manifest["theme_color"]}"' in svg, name
    maskable = ROOT / "static" / "icons" / "maskable-512.png"
    with Image.open(maskable) as image:
        corner = image.convert("RGB").getpixel((0, 0))
    assert "#{:02x}{:02x}{:02x}".format(*corner) == manifest["theme_color"]
