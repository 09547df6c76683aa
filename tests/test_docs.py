"""The README and the docs point at files that exist: text moves between pages (most
of the README moved into docs/), and a link left behind is found here rather than by a reader."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from tests.conftest import REPO

PAGES = [
    REPO / "README.md",
    *sorted((REPO / "docs").glob("*.md")),
    *sorted((REPO / "bench").glob("*.md")),
]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|<img\s[^>]*src=\"([^\"]+)\"")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def links(page: Path) -> list[str]:
    """Link targets of a page's Markdown links and <img> tags, outside fenced code blocks."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return [a or b for a, b in LINK.findall(text)]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {slug(m) for m in re.findall(r"^#+\s+(.*)$", text, re.M)}


def relative(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) and not target.startswith("#")


def test_every_page_is_found():
    assert (REPO / "README.md") in PAGES and len(PAGES) > 2


def test_every_relative_link_points_at_a_file_that_exists():
    broken = []
    for page in PAGES:
        for target in filter(relative, links(page)):
            path, _, fragment = target.partition("#")
            file = (page.parent / path).resolve()
            if not file.exists():
                broken.append(f"{page.relative_to(REPO)}: {target}")
            elif fragment and file.suffix == ".md" and fragment not in anchors(file):
                broken.append(f"{page.relative_to(REPO)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_the_link_check_sees_links_anchors_and_images(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        '# A title\n## Tile ranks (`geo/x.py`)\n[a](b.md#c) ![i](img/x.png "t")\n'
        '<img src="d.png" alt="e">\n```\n[not](a-link.md)\n```\n[web](https://example.org)\n'
    )
    assert links(page) == ["b.md#c", "img/x.png", "d.png", "https://example.org"]
    assert anchors(page) == {"a-title", "tile-ranks-geoxpy"}
    assert [t for t in links(page) if relative(t)] == ["b.md#c", "img/x.png", "d.png"]


def table_rows(text: str, header: str) -> list[list[str]]:
    """The cells of the Markdown table whose header row starts with ``header``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_readme_shows_the_validation_table_of_docs_network():
    """The README shows published against routed distances. Its pairs and published km
    are validation.csv's; its routed km are docs/network.md's full table (which the network test
    prints), so the two pages cannot drift apart."""
    header = "| from | to | mode | published km | network km | off |"
    readme = table_rows((REPO / "README.md").read_text(encoding="utf-8"), header)
    with (REPO / "data" / "samples" / "network" / "validation.csv").open(encoding="utf-8") as fh:
        published = [(r["from"], r["to"], r["mode"], r["published_km"]) for r in csv.DictReader(fh)]
    assert [(f, t, m, km.replace(",", "")) for f, t, m, km, *_ in readme] == published
    full = table_rows((REPO / "docs" / "network.md").read_text(encoding="utf-8"), header)
    assert readme == [row[:6] for row in full]
    for _, _, _, km, routed, off in readme:
        km, routed = float(km.replace(",", "")), float(routed.replace(",", ""))
        # routed km are rounded to whole km, the percentage to 0.1 from the unrounded figure
        assert abs(float(off.rstrip("%")) - 100 * (routed - km) / km) <= 0.05 + 50 / km
        assert abs(routed - km) <= 0.1 * km


def test_the_readme_shows_three_screenshots():
    """Three of the browser tests' screenshots in the README, each a file in docs/img."""
    shots = [t for t in links(REPO / "README.md") if t.startswith("docs/img/")]
    assert len(set(shots)) >= 3 and all((REPO / shot).is_file() for shot in shots), shots
