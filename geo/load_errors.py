"""What a load reports, and the error naming every problem of a file.

Why a module of its own: both loaders (geo.load for the layers, geo.projects for the value
chain) report and fail the same way; with these in geo.load, the two imported each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from geo.files import row_label
from geo.validate import Problem


@dataclass
class LoadReport:
    layer: str
    path: Path
    rows: int
    inserted: int
    updated: int
    seconds: float


class LoadError(Exception):
    """Every problem found in a file, each naming the file, the row and the reason."""

    def __init__(self, path: Path, problems: list[Problem]):
        self.path = Path(path)
        self.problems = problems
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [
            f"{self.path}: {row_label(self.path, p.row) + ': ' if p.row is not None else ''}"
            f"{p.field}: {p.reason}"
            for p in self.problems
        ]
