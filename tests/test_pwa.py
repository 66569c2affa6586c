"""The installable app: manifest, icons, the service worker at the root, the offline page."""

import io
import json
import re

from PIL import Image

from homeprogram import paths
from tests.caregiver_setup import family


def test_manifest_has_what_installation_needs(client):
    """name, short_name, start_url, display standalone, theme colour and icons 192/512."""
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["name"] and manifest["short_name"]
    assert manifest["start_url"] == "/"
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes


def test_icons_are_real_pngs_of_the_stated_size(client):
    """Every icon the manifest names is served as a PNG of exactly its declared size."""
    manifest = json.loads(client.get("/manifest.webmanifest").get_data(as_text=True))
    for icon in manifest["icons"]:
        with client.get(icon["src"]) as response:  # static files stream: close them
            assert response.status_code == 200, icon["src"]
            image = Image.open(io.BytesIO(response.data))
        assert image.format == "PNG"
        assert f"{image.width}x{image.height}" == icon["sizes"]
        if icon.get("purpose") == "maskable":
            # Maskable icons fill the square: no transparent corners to be cut off.
            assert image.convert("RGBA").getpixel((0, 0))[3] == 255


def test_service_worker_is_served_from_the_root(client):
    """/sw.js controls the whole site, is always revalidated, and names its shell."""
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    version = re.search(r'const HP_VERSION = "([0-9a-f]{16})";', body)
    assert version
    shell = json.loads(re.search(r"const HP_SHELL = (\[.*?\]);", body).group(1))
    assert "/offline" in shell and "/static/js/offline-queue.js" in shell
    assert 'importScripts("/static/js/sw-push.js")' in body
    assert 'importScripts("/static/js/offline-queue.js")' in body
    for url in shell:
        with client.get(url) as shell_response:
            assert shell_response.status_code == 200, url


def test_worker_version_follows_the_shell(client, monkeypatch):
    """Changing a precached file changes the worker, so phones install the new shell."""
    from homeprogram.blueprints.caregiver import pwa

    before = client.get("/sw.js").get_data(as_text=True)
    monkeypatch.setattr(pwa, "SHELL_STATIC", (*pwa.SHELL_STATIC, "icons/icon-512.png"))
    after = client.get("/sw.js").get_data(as_text=True)
    assert before.splitlines()[0] != after.splitlines()[0]


def test_sw_push_placeholder_exists():
    """The worker imports the push script, so the file must exist for it to install."""
    assert (paths.STATIC_DIR / "js" / "sw-push.js").is_file()


def test_offline_page_needs_no_login_and_holds_no_user_data(client, factory, login):
    """The offline page is the same for everyone (it is cached without cookies)."""
    anonymous = client.get("/offline")
    assert anonymous.status_code == 200
    assert "You are offline" in anonymous.get_data(as_text=True)
    fam = family(factory)
    login(fam.caregiver.email)
    page = client.get("/today").get_data(as_text=True)
    assert 'rel="manifest"' in page
    assert re.search(r'<script src="/static/js/pwa.js" defer></script>', page)
    assert re.search(r'<script src="/static/js/today.js" defer></script>', page)
    assert "data-clear-offline" in page
    assert "data-offline-banner hidden" in page  # what the worker un-hides in a kept copy


def test_pages_have_no_inline_scripts_or_handlers(client, factory, login):
    """The caregiver pages carry no inline script, style attribute or on* handler (CSP)."""
    fam = family(factory)
    login(fam.caregiver.email)
    client.post(
        f"/children/{fam.child.id}/logs",
        data={"assignment_id": fam.morning.id, "client_id": "3f1e2d3c-1111-4222-8333-444455556666"},
    )
    for url in ("/today", f"/children/{fam.child.id}/week", "/settings", "/offline"):
        page = client.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), url
        assert not re.search(r"\sstyle=", page), url
        assert not re.search(r"\son[a-z]+=", page), url
