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


def demand_svg(rows, thresholds, title, x_label, y_label):
    """Each clinic as a point: room occupancy across, training fill rate up; the dashed lines are the
    thresholds past which the city's view asks for more computers (right) or more trainings (top).
    A clinic without trainings sits on the bottom line as a hollow point; the clinics that need
    something are red and named."""
    width, height, left, bottom, size = 560, 380, 48, 40, 300
    top = height - bottom - size

    def x_of(ratio):
        return left + size * 1.5 * min(ratio or 0, 1)

    def y_of(ratio):
        return top + size - size * min(ratio or 0, 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-demand" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
             f'<rect x="{left}" y="{top}" width="{size * 1.5}" height="{size}" fill="none" stroke="#adb5bd"/>']
    for ratio in (0, 0.5, 1):
        parts.append(f'<text x="{x_of(ratio)}" y="{top + size + 16}" font-size="10" text-anchor="middle">'
                     f'{percent(ratio)}</text>')
        parts.append(f'<text x="{left - 6}" y="{y_of(ratio) + 4}" font-size="10" text-anchor="end">'
                     f'{percent(ratio)}</text>')
    parts.append(f'<line x1="{x_of(thresholds["occupancy"])}" y1="{top}" x2="{x_of(thresholds["occupancy"])}" '
                 f'y2="{top + size}" stroke="#c62828" stroke-dasharray="4 3"/>')
    parts.append(f'<line x1="{left}" y1="{y_of(thresholds["fill_rate"])}" x2="{left + size * 1.5}" '
                 f'y2="{y_of(thresholds["fill_rate"])}" stroke="#ef6c00" stroke-dasharray="4 3"/>')
    parts.append(f'<text x="{left + size * 0.75}" y="{height - 6}" font-size="11" text-anchor="middle">'
                 f'{escape(x_label)}</text>')
    parts.append(f'<text x="12" y="{top + size / 2}" font-size="11" text-anchor="middle" '
                 f'transform="rotate(-90 12 {top + size / 2})">{escape(y_label)}</text>')
    for row in rows:
        x, y = x_of(row["occupancy"]), y_of(row["fill_rate"])
        fill = "#c62828" if row["needs"] else "#0d47a1"
        style = f'fill="none" stroke="{fill}"' if row["fill_rate"] is None else f'fill="{fill}"'
        label = (f'{row["clinic"]["name"]}: {x_label} {percent(row["occupancy"])}, '
                 f'{y_label} {percent(row["fill_rate"])}')
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" {style} data-clinic="{row["clinic"]["id"]}">'
                     f'<title>{escape(label)}</title></circle>')
        if row["needs"]:  # named on the chart; the others say who they are on hover, to keep 65 points legible
            parts.append(f'<text x="{x + 7:.1f}" y="{y - 6:.1f}" font-size="9">'
                         f'{escape(row["clinic"]["short_name"])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
