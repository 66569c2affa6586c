"""The rules every library illustration follows, checked by the tests and by `library sync`.

One style for the whole library: line drawings in one ink colour on a 160 × 120 canvas, a few
light fills from a fixed palette (they print as pale greys in black and white), no text (the
picture is the same in every language; its words are the alt text in the activity's files),
and nothing that could fetch, run or hide anything.
"""

import gzip
import hashlib
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from xml.etree import ElementTree

SVG_NS = "http://www.w3.org/2000/svg"
VIEW_BOX = "0 0 160 120"
MAX_GZIPPED_BYTES = 6 * 1024
INK = "#24324a"
FILLS = ("#fde2c8", "#d6ecff", "#dff3d8", "#fff1b8", "#f3dcef", "#ffffff")
COLOURS = frozenset((INK, *FILLS, "none"))
ELEMENTS = frozenset(
    ("svg", "g", "path", "circle", "ellipse", "rect", "line", "polyline", "polygon")
)
ATTRIBUTES = frozenset(
    (
        "xmlns",
        "viewBox",
        "width",
        "height",
        "d",
        "cx",
        "cy",
        "r",
        "rx",
        "ry",
        "x",
        "y",
        "x1",
        "y1",
        "x2",
        "y2",
        "points",
        "fill",
        "stroke",
        "stroke-width",
        "stroke-linecap",
        "stroke-linejoin",
        "transform",
        "fill-rule",
        "opacity",
    )
)
_STEP = re.compile(r"^(?P<slug>[a-z0-9-]+)-step-(?P<number>[1-9][0-9]?)$")


def picture_file(directory: Path, slug: str) -> Path:
    return directory / f"{slug}.svg"


def step_picture_file(directory: Path, slug: str, number: int) -> Path:
    """The picture of step ``number`` (1-based) of an activity."""
    return directory / f"{slug}-step-{number}.svg"


def step_of(path: Path) -> tuple[str, int] | None:
    """(slug, step number) for a step picture's file, None for a main picture."""
    match = _STEP.match(path.stem)
    return (match["slug"], int(match["number"])) if match else None


def problems(path: Path) -> list[str]:
    """What is wrong with one illustration file; empty when it follows every rule."""
    data = path.read_bytes()
    found: list[str] = []
    if len(gzip.compress(data, 9)) > MAX_GZIPPED_BYTES:
        found.append(f"larger than {MAX_GZIPPED_BYTES} bytes compressed")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data or b"<?xml-stylesheet" in data:
        found.append("has a DOCTYPE, entity or stylesheet")
        return found
    try:
        # Our own shipped files; DOCTYPEs and entities were refused above.
        root = ElementTree.fromstring(data)  # noqa: S314
    except ElementTree.ParseError as error:
        return [*found, f"not well-formed XML: {error}"]
    if root.tag != f"{{{SVG_NS}}}svg":
        found.append("the root element is not an SVG <svg>")
    if root.get("viewBox") != VIEW_BOX:
        found.append(f'the viewBox is not "{VIEW_BOX}"')
    for element in root.iter():
        namespace, _, tag = element.tag.rpartition("}")
        if namespace != "{" + SVG_NS or tag not in ELEMENTS:
            found.append(f"element <{tag}> is not allowed")
        if (element.text or "").strip() or (element.tail or "").strip():
            found.append(f"<{tag}> holds text (words belong in the alt text)")
        for name, value in element.attrib.items():
            if name not in ATTRIBUTES:
                found.append(f'attribute "{name}" on <{tag}> is not allowed')
            elif name in ("fill", "stroke") and value.lower() not in COLOURS:
                found.append(f'colour "{value}" on <{tag}> is not in the palette')
    return found


class IllustrationError(Exception):
    """An activity's pictures do not match its text, or break a rule."""


def version_of(
    directory: Path, slug: str, picture_alt: str, step_picture_alts: Sequence[str], steps: int
) -> str | None:
    """The version of an activity's pictures (a hash of their files), None when it has none.

    The picture needs its alt text; step pictures come for every step or none, each with
    its alt text.
    """
    main_file = picture_file(directory, slug)
    step_files = [step_picture_file(directory, slug, n) for n in range(1, steps + 1)]
    present = [f for f in step_files if f.is_file()]
    if step_picture_file(directory, slug, steps + 1).is_file():
        raise IllustrationError(f"has more step pictures than its {steps} steps")
    if not main_file.is_file():
        if picture_alt or step_picture_alts or present:
            raise IllustrationError(f"has picture text or step pictures but no {main_file.name}")
        return None
    if not picture_alt:
        raise IllustrationError(f"{main_file.name} needs its picture_alt")
    if present and len(present) != steps:
        raise IllustrationError(f"has {len(present)} step pictures for {steps} steps")
    if len(step_picture_alts) != len(present):
        raise IllustrationError(
            f"has {len(step_picture_alts)} step_picture_alts for {len(present)} step pictures"
        )
    digest = hashlib.sha256()
    for path in (main_file, *present):
        found = problems(path)
        if found:
            raise IllustrationError(f"{path.name}: {'; '.join(found)}")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]  # in every picture URL: short, and enough to bust caches


def main(paths: list[str]) -> int:
    failed = 0
    for name in paths:
        for problem in problems(Path(name)):
            print(f"{name}: {problem}")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
