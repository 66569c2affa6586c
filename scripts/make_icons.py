"""Draw the app icons (a house with a star) into static/icons/. Run: python scripts/make_icons.py

Original artwork drawn with Pillow, so the PNGs can be regenerated and carry no licence
baggage. "any" icons are a rounded tile; "maskable" icons fill the square and keep the
drawing inside the central safe zone (a circle of 40% of the size around the centre).
"""

import math
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "static" / "icons"
TEAL = (29, 92, 99, 255)
WHITE = (255, 255, 255, 255)
GOLD = (242, 182, 50, 255)
SCALE = 4  # draw large, then shrink: smooth edges without an anti-aliasing library


def _star(cx: float, cy: float, outer: float, inner: float) -> list[tuple[float, float]]:
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def _house(draw: ImageDraw.ImageDraw, size: int, glyph: float) -> None:
    """A house with a star in its door, ``glyph`` wide, centred in a ``size`` square."""
    c = size / 2
    half = glyph / 2
    top = c - half * 0.95
    eave = c - half * 0.15
    bottom = c + half * 0.85
    wall = half * 0.72
    draw.polygon([(c, top), (c + half, eave), (c - half, eave)], fill=WHITE)
    draw.rectangle([c - wall, eave - 1, c + wall, bottom], fill=WHITE)
    star_cy = (eave + bottom) / 2 + glyph * 0.02
    draw.polygon(_star(c, star_cy, glyph * 0.27, glyph * 0.11), fill=GOLD)


def icon(size: int, *, maskable: bool) -> Image.Image:
    big = size * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle([0, 0, big, big], fill=TEAL)
        glyph = big * 0.5  # fits the safe-zone circle with room to spare
    else:
        draw.rounded_rectangle([0, 0, big - 1, big - 1], radius=big * 0.18, fill=TEAL)
        glyph = big * 0.66
    _house(draw, big, glyph)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        icon(size, maskable=False).save(OUT / f"icon-{size}.png", optimize=True)
        icon(size, maskable=True).save(OUT / f"maskable-{size}.png", optimize=True)
    print(f"Wrote icons to {OUT}")


if __name__ == "__main__":
    main()
