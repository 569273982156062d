"""The utilisation report as an SVG bar chart: booked, used and no-show hours per room over
the report's range, each bar with its label and number in the reader's language, a
<title> and a <desc> (the dashboard's `<img>` and the reception desk's report page)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from server.notify.texts import text
from server.reports import utilisation as reports
from server.site import Language

# Each series has its own fill pattern as well as its own colour, and every bar its label
# and number, so nothing is told by colour alone (WCAG 1.4.1). The colours reach 3:1
# against white (1.4.11).
SERIES = (
    ("booked", "#1f4e79", "url(#p-booked)"),
    ("used", "#2e6b30", "url(#p-used)"),
    ("no_show", "#a34100", "url(#p-no-show)"),
)
PATTERNS = """<defs>
<pattern id="p-booked" width="8" height="8" patternUnits="userSpaceOnUse">\
<rect width="8" height="8" fill="#1f4e79"/></pattern>
<pattern id="p-used" width="8" height="8" patternUnits="userSpaceOnUse" \
patternTransform="rotate(45)"><rect width="8" height="8" fill="#ffffff"/>\
<rect width="4" height="8" fill="#2e6b30"/></pattern>
<pattern id="p-no-show" width="6" height="6" patternUnits="userSpaceOnUse">\
<rect width="6" height="6" fill="#ffffff"/><circle cx="3" cy="3" r="2" fill="#a34100"/>\
</pattern>
</defs>"""
WIDTH, MARGIN, BAR_MAX, BAR_H, BAR_GAP = 760, 20, 420, 18, 6
TOP = 90  # below the title and the legend
ROOM_H = 24 + 3 * (BAR_H + BAR_GAP) + 12


def _number(value: float, lang: str) -> str:
    return f"{value:.2f}".replace(".", text(lang, "chart.decimal")) + " " + text(lang, "chart.unit")


def _text(x: float, y: float, text: str, *, size: int = 13, bold: bool = False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return f'<text x="{x:g}" y="{y:g}" font-size="{size}"{weight}>{escape(text)}</text>'


def utilisation_svg(report: reports.Utilisation, *, lang: Language = "pl") -> str:
    """A bar chart of booked, used and no-show hours per room over the whole range."""
    labels = {key: text(lang, f"chart.{key}") for key, _, _ in SERIES}
    title = text(lang, "chart.title", first=report.first_day, last=report.last_day)
    desc = text(lang, "chart.desc", first=report.first_day, last=report.last_day)
    totals: dict[str, dict[str, float]] = {}
    names: dict[str, str] = {}
    for w in report.weeks:
        for room in w.rooms:
            names[room.room_id] = room.name
            t = totals.setdefault(room.room_id, dict.fromkeys(("booked", "used", "no_show"), 0))
            t["booked"] += sum(room.booked.values())
            t["used"] += room.used_total
            t["no_show"] += sum(room.no_show.values())
    top = max((v for t in totals.values() for v in t.values()), default=0.0)
    scale = BAR_MAX / top if top > 0 else 0.0
    height = TOP + ROOM_H * len(totals) + MARGIN

    summary = " ".join(
        f"{names[room_id]}: "
        + ", ".join(f"{labels[key]} {_number(t[key], lang)}" for key, _, _ in SERIES)
        + "."
        for room_id, t in totals.items()
    )
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="title desc" '
        f'lang="{lang}" font-family="sans-serif" fill="#1a1a1a">',
        f'<title id="title">{escape(title)}</title>',
        f'<desc id="desc">{escape(desc + " " + summary)}</desc>',
        PATTERNS,
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        _text(MARGIN, 30, title, size=18, bold=True),
    ]
    x = MARGIN
    for key, colour, fill in SERIES:  # the legend
        parts.append(
            f'<rect x="{x}" y="48" width="16" height="16" fill="{fill}" stroke="{colour}"/>'
        )
        parts.append(_text(x + 22, 61, labels[key]))
        x += 22 + 8 * len(labels[key]) + 24  # about the width of a 13px label
    y = TOP
    for room_id, t in totals.items():
        parts.append(_text(MARGIN, y + 14, names[room_id], size=15, bold=True))
        bar_y = y + 24
        for key, colour, fill in SERIES:
            length = t[key] * scale
            if length > 0:
                parts.append(
                    f'<rect x="{MARGIN}" y="{bar_y}" width="{length:.1f}" height="{BAR_H}" '
                    f'fill="{fill}" stroke="{colour}"/>'
                )
            label = f"{labels[key]}: {_number(t[key], lang)}"
            parts.append(_text(MARGIN + length + 8, bar_y + 14, label))
            bar_y += BAR_H + BAR_GAP
        y += ROOM_H
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
