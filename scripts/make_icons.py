"""Render the PNG app icons from static/icons/app-icon.svg. Run: make icons

The SVG is the source (hand-written, original artwork); this script draws it with the
system Chromium through Playwright (the test extra has it; no browser download) and writes
static/icons/icon-{192,512}.png, maskable-{192,512}.png and apple-touch-icon.png (180 px,
full-bleed like the maskable ones: iOS rounds the corners itself). "any" icons are the rounded tile
on a transparent background; "maskable" icons fill the square with the brand colour and
shrink the tile to 80%, so the drawing stays inside the safe zone (the central circle of
80% diameter that every launcher mask keeps).
"""

import argparse
import base64
import io
import os
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "static" / "icons"
SOURCE = ICONS / "app-icon.svg"
BRAND = "#1d5c63"  # the tile's colour in app-icon.svg
FLAT_COLOURS = (BRAND, "#ffffff", "#f2b632")  # tile, house, star
CHROMIUM = Path(os.environ.get("HOMEPROGRAM_CHROMIUM", "/usr/bin/chromium"))
SIZES = (192, 512)
APPLE_SIZE = 180
MASKABLE_SCALE = 0.8


def _page(svg: bytes, *, maskable: bool) -> str:
    data = base64.b64encode(svg).decode()
    scale = MASKABLE_SCALE if maskable else 1
    background = BRAND if maskable else "transparent"
    return (
        "<!doctype html><html><head><style>"
        f"html,body{{margin:0;height:100%;background:{background}}}"
        "body{display:grid;place-items:center}"
        f"img{{width:{scale * 100}vw;height:{scale * 100}vh}}"
        f'</style></head><body><img alt="" src="data:image/svg+xml;base64,{data}"></body></html>'
    )


def render(svg: bytes, size: int, *, maskable: bool, browser) -> Image.Image:
    page = browser.new_page(viewport={"width": size, "height": size}, device_scale_factor=1)
    try:
        page.set_content(_page(svg, maskable=maskable))
        page.wait_for_function("document.images[0].complete")
        png = page.screenshot(omit_background=not maskable)
    finally:
        page.close()
    image = Image.open(io.BytesIO(png))
    image.load()
    # A few flat colours and their anti-aliased edges: a palette keeps the PNGs small (the
    # 192 px icon is in the service worker's precache, counted in the page-weight budget).
    image = image.convert("RGB") if maskable else image.convert("RGBA")
    return _snap(image.quantize(colors=64, method=Image.Quantize.FASTOCTREE))


def _snap(image: Image.Image) -> Image.Image:
    """Put the artwork's flat colours back exactly where quantizing moved them a shade."""
    exact = [tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5)) for colour in FLAT_COLOURS]
    palette = image.getpalette() or []
    for start in range(0, len(palette) - 2, 3):
        entry = palette[start : start + 3]
        for colour in exact:
            if max(abs(a - b) for a, b in zip(entry, colour, strict=True)) <= 4:
                palette[start : start + 3] = colour
    image.putpalette(palette)
    return image


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the PNG app icons from the SVG.")
    parser.add_argument("--out", type=Path, default=ICONS, help="folder for the PNGs")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is not installed (apt-get install chromium)", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    svg = SOURCE.read_bytes()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            for size in SIZES:
                for maskable, name in ((False, "icon"), (True, "maskable")):
                    image = render(svg, size, maskable=maskable, browser=browser)
                    image.save(args.out / f"{name}-{size}.png", optimize=True)
            # iOS rounds the corners itself and shows transparency as black: full-bleed.
            image = render(svg, APPLE_SIZE, maskable=True, browser=browser)
            image.save(args.out / "apple-touch-icon.png", optimize=True)
        finally:
            browser.close()
    print(f"Wrote {len(SIZES) * 2 + 1} icons to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
