"""Installable app: the web app manifest, the service worker at the site root, the offline page.

The service worker file lives in ``static/js/sw.js`` but must be served from ``/`` to
control the whole site. Its first line is written here: the cache version (a hash of the
worker and of every file it precaches, so any change installs a new worker and drops the
old caches) and the list of files to precache.
"""

import hashlib
import json
from typing import Any

from flask import current_app, render_template, url_for
from flask_babel import gettext

from homeprogram import paths
from homeprogram.blueprints.caregiver.blueprint import bp

THEME_COLOUR = "#1d5c63"  # --color-primary, the tile of static/icons/app-icon.svg
BACKGROUND_COLOUR = "#f6f7f5"  # --color-bg (static/css/app.css)
# The app shell: the same for every user, holds no child data.
SHELL_STATIC = (
    "css/app.css",
    "css/caregiver.css",
    "vendor/htmx-2.0.11/htmx.min.js",
    "js/offline-queue.js",
    "js/pwa.js",
    "js/today.js",
)
# Not the notification icon: a push arrives online, and the browser fetches it then (Today's
# first load has a byte budget: tests/test_page_weight.py).
SHELL_PAGES = ("/offline", "/manifest.webmanifest")


def _shell_urls() -> list[str]:
    return [url_for("static", filename=name) for name in SHELL_STATIC] + list(SHELL_PAGES)


def _version(worker: bytes) -> str:
    digest = hashlib.sha256(worker)
    for name in (*SHELL_STATIC, "js/sw-push.js"):
        path = paths.STATIC_DIR / name
        if path.is_file():
            digest.update(path.read_bytes())
    digest.update(json.dumps(manifest(), sort_keys=True).encode())
    return digest.hexdigest()[:16]


def manifest() -> dict[str, Any]:
    icons = [
        {"src": f"/static/icons/icon-{size}.png", "sizes": f"{size}x{size}", "type": "image/png"}
        for size in (192, 512)
    ] + [
        {
            "src": f"/static/icons/maskable-{size}.png",
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "maskable",
        }
        for size in (192, 512)
    ]
    return {
        "id": "/",
        "name": gettext("homeprogram: practice at home"),
        "short_name": "homeprogram",
        "description": gettext("Your child's home practice, one tap at a time."),
        "lang": "en",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": icons,
    }


@bp.get("/manifest.webmanifest")
def web_manifest():
    response = current_app.response_class(
        json.dumps(manifest(), ensure_ascii=False), mimetype="application/manifest+json"
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/sw.js")
def service_worker():
    worker = (paths.STATIC_DIR / "js" / "sw.js").read_bytes()
    header = (
        f"const HP_VERSION = {json.dumps(_version(worker))};\n"
        f"const HP_SHELL = {json.dumps(_shell_urls())};\n"
    ).encode()
    response = current_app.response_class(header + worker, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/offline")
def offline():
    """Shown by the service worker for pages it has not kept; no user data on it."""
    response = current_app.make_response(render_template("caregiver/offline.html"))
    response.headers["Cache-Control"] = "no-cache"
    return response
