"""Counts over the built-in activity files: focus area × age band, per language.

An activity counts in every age band its ages overlap (ages 4–10 count in 3–5, 6–8 and
9–11), so a row's bands can add up to more than its total.
"""

from collections import Counter
from dataclasses import dataclass

from homeprogram.models import FocusArea
from homeprogram.services.library import BuiltinActivity

AGE_BANDS: tuple[tuple[int, int], ...] = ((0, 2), (3, 5), (6, 8), (9, 11), (12, 18))


@dataclass(frozen=True)
class LibraryStats:
    # (focus area, band index) -> activities whose ages overlap the band
    cells: dict[tuple[str, int], int]
    per_area: dict[str, int]
    per_language: dict[str, int]
    total: int

    def band_total(self, band: int) -> int:
        return sum(count for (_area, b), count in self.cells.items() if b == band)


def band_label(band: tuple[int, int]) -> str:
    return f"{band[0]}-{band[1]}"


def compute(items: list[BuiltinActivity]) -> LibraryStats:
    cells: Counter[tuple[str, int]] = Counter()
    per_area: Counter[str] = Counter()
    per_language: Counter[str] = Counter()
    for item in items:
        values = item.values
        per_area[values.focus_area] += 1
        per_language[item.language] += 1
        for index, (low, high) in enumerate(AGE_BANDS):
            if values.age_min <= high and values.age_max >= low:
                cells[(values.focus_area, index)] += 1
    return LibraryStats(dict(cells), dict(per_area), dict(per_language), len(items))


def table(stats: LibraryStats) -> list[str]:
    """The lines `homeprogram library stats` prints (plain text, fixed-width columns)."""
    areas = [area.value for area in FocusArea]
    width = max(len(area) for area in [*areas, "focus area"])
    bands = [band_label(band) for band in AGE_BANDS]
    head = f"{'focus area':<{width}}" + "".join(f"{b:>7}" for b in bands) + f"{'total':>7}"
    lines = [
        "Built-in activities by focus area and age band (an activity counts in every band",
        "its ages cover, so bands can add up to more than the total):",
        "",
        head,
        "-" * len(head),
    ]
    for area in areas:
        row = "".join(f"{stats.cells.get((area, i), 0):>7}" for i in range(len(AGE_BANDS)))
        lines.append(f"{area:<{width}}{row}{stats.per_area.get(area, 0):>7}")
    lines.append("-" * len(head))
    totals = "".join(f"{stats.band_total(i):>7}" for i in range(len(AGE_BANDS)))
    lines.append(f"{'all':<{width}}{totals}{stats.total:>7}")
    lines.append("")
    lines.append(f"Total: {stats.total} activities")
    languages = ", ".join(f"{lang} {count}" for lang, count in sorted(stats.per_language.items()))
    lines.append(f"Per language: {languages}")
    return lines
