"""What a benchmark reports: one row per measurement, printed as a table by `make bench`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BenchRow:
    """One measured figure and the target it is held to (None when it is only reported)."""

    area: str
    measurement: str
    value: float
    unit: str
    target: str = ""
    ok: bool | None = None

    @property
    def verdict(self) -> str:
        if self.ok is None:
            return "info"
        return "ok" if self.ok else "MISSED"


def format_table(rows: list[BenchRow]) -> str:
    """Render rows as a plain-text table with aligned columns."""
    header = ("area", "measurement", "value", "unit", "target", "verdict")
    body = [(r.area, r.measurement, f"{r.value:,.2f}", r.unit, r.target, r.verdict) for r in rows]
    widths = [max(len(str(line[i])) for line in [header, *body]) for i in range(len(header))]

    def fmt(line: tuple[str, ...]) -> str:
        cells = [
            str(cell).rjust(widths[i]) if i == 2 else str(cell).ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        return " | ".join(cells).rstrip()

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *(fmt(line) for line in body)])
