"""Build the icon sprite from the Lucide icon set (ISC), keeping only the icons we use.

    cd /tmp && npm pack lucide-static@1.62.0 && tar xzf lucide-static-1.62.0.tgz
    python scripts/vendor_icons.py /tmp/package

writes static/vendor/lucide-1.62.0/sprite.svg (one <symbol> per icon, named by our names
below) and copies the package's LICENSE beside it. Templates use the icons through
templates/partials/icons.html; tests/test_icons.py checks every name they use is here.
"""

import argparse
import json
import re
import shutil
import sys
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
SVG_NS = "http://www.w3.org/2000/svg"

# Our name -> the Lucide icon drawn for it. Only icons the templates use (or are about to):
# each one costs every page that shows an icon about 60 bytes, compressed.
ICONS = {
    "home": "house",
    "calendar": "calendar",
    "message": "message-circle",
    "more": "ellipsis",
    "check": "check",
    "undo": "undo-2",
    "info": "info",
    "alert": "triangle-alert",
    "steps": "list-ordered",
    "print": "printer",
    "user": "user",
    "users": "users",
    "chart": "chart-line",
    "settings": "settings",
    "log-out": "log-out",
    "plus": "plus",
    "edit": "pencil",
    "trash": "trash-2",
    "bell": "bell",
    "clock": "clock",
    "star": "star",
    "book": "book-open",
    "chevron-down": "chevron-down",
    "menu": "menu",
    "x": "x",
    "key": "key-round",
    "shield": "shield",
    "download": "download",
}

# Drawing attributes every Lucide icon shares; set once on each symbol's group.
STROKE = (
    'fill="none" stroke="currentColor" stroke-width="2" '
    'stroke-linecap="round" stroke-linejoin="round"'
)


def _shapes(svg_text: str) -> str:
    """The drawing elements of one Lucide SVG file, serialised without namespaces."""
    root = ElementTree.fromstring(svg_text)  # noqa: S314 (the npm package we vendor)
    parts = []
    for child in root:
        tag = child.tag.removeprefix(f"{{{SVG_NS}}}")
        attributes = "".join(f' {name}="{value}"' for name, value in child.attrib.items())
        if len(child):
            raise ValueError(f"nested element <{tag}> not supported")
        parts.append(f"<{tag}{attributes}/>")
    return "".join(parts)


def build(package: Path) -> tuple[str, str]:
    version = json.loads((package / "package.json").read_text())["version"]
    symbols = []
    for name, lucide in sorted(ICONS.items()):
        text = (package / "icons" / f"{lucide}.svg").read_text()
        text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
        symbols.append(
            f'<symbol id="{name}" viewBox="0 0 24 24"><g {STROKE}>{_shapes(text)}</g></symbol>'
        )
    header = f"<!-- Lucide {version} (ISC, see LICENSE): https://lucide.dev -->"
    sprite = f'{header}\n<svg xmlns="{SVG_NS}">\n' + "\n".join(symbols) + "\n</svg>\n"
    return version, sprite


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", type=Path, help="the unpacked lucide-static package folder")
    args = parser.parse_args(argv)
    version, sprite = build(args.package)
    out = ROOT / "static" / "vendor" / f"lucide-{version}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "sprite.svg").write_text(sprite)
    shutil.copyfile(args.package / "LICENSE", out / "LICENSE")
    print(f"Wrote {len(ICONS)} icons to {out / 'sprite.svg'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
