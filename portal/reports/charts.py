"""Charts drawn by the portal itself as inline SVG (no chart library, nothing from a CDN)."""
from markupsafe import Markup, escape

CELL = 26
LEFT = 40
TOP = 22


def _shade(ratio):
    """White for 0 to deep blue for 1; grey when the room was closed (ratio None)."""
    if ratio is None:
        return "#f1f3f5"
    ratio = max(0.0, min(1.0, ratio))
    red, green, blue = (int(255 - (255 - target) * ratio) for target in (13, 71, 161))
    return f"#{red:02x}{green:02x}{blue:02x}"


def percent(ratio):
    return "—" if ratio is None else f"{round(ratio * 100)}%"


def heatmap_svg(cells, weekday_names, title):
    """Occupancy by local weekday (rows) and hour (columns); only hours with open time are drawn."""
    by_cell = {(cell["weekday"], cell["hour"]): cell["occupancy"] for cell in cells}
    hours = sorted({hour for _weekday, hour in by_cell}) or list(range(8, 20))
    width, height = LEFT + CELL * len(hours) + 4, TOP + CELL * 7 + 4
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-heatmap" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}"><title>{escape(title)}</title>']
    for column, hour in enumerate(hours):
        parts.append(f'<text x="{LEFT + column * CELL + CELL / 2}" y="{TOP - 6}" font-size="10" '
                     f'text-anchor="middle">{hour:02d}</text>')
    for weekday in range(7):
        y = TOP + weekday * CELL
        parts.append(f'<text x="{LEFT - 6}" y="{y + CELL / 2 + 4}" font-size="11" text-anchor="end">'
                     f'{escape(weekday_names[weekday])}</text>')
        for column, hour in enumerate(hours):
            ratio = by_cell.get((weekday, hour))
            label = f"{weekday_names[weekday]} {hour:02d}:00 — {percent(ratio)}"
            parts.append(f'<rect x="{LEFT + column * CELL}" y="{y}" width="{CELL - 2}" height="{CELL - 2}" '
                         f'fill="{_shade(ratio)}" data-occupancy="{"" if ratio is None else ratio}">'
                         f'<title>{escape(label)}</title></rect>')
    parts.append("</svg>")
    return Markup("".join(parts))


def trend_svg(points, title, value_label):
    """Month-on-month bars of occupancy with the percentage above each bar."""
    bar, gap, chart_height = 44, 18, 120
    width = LEFT + len(points) * (bar + gap)
    height = chart_height + 44
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-trend" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
             f'<line x1="{LEFT - 4}" y1="{chart_height + 16}" x2="{width}" y2="{chart_height + 16}" stroke="#adb5bd"/>']
    for index, point in enumerate(points):
        ratio = point["occupancy"] or 0
        bar_height = round(chart_height * min(ratio, 1))
        x = LEFT + index * (bar + gap)
        y = chart_height + 16 - bar_height
        parts.append(f'<rect x="{x}" y="{y}" width="{bar}" height="{bar_height}" fill="#0d47a1">'
                     f'<title>{escape(point["month"])}: {escape(value_label)} {percent(point["occupancy"])}</title>'
                     f'</rect>')
        parts.append(f'<text x="{x + bar / 2}" y="{y - 4}" font-size="11" text-anchor="middle">'
                     f'{percent(point["occupancy"])}</text>')
        parts.append(f'<text x="{x + bar / 2}" y="{chart_height + 32}" font-size="11" text-anchor="middle">'
                     f'{escape(point["month"])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
