"""Charts drawn by the portal itself as inline SVG (no chart library, nothing from a CDN)."""

from decimal import ROUND_HALF_UP, Decimal

from flask_babel import format_decimal
from markupsafe import Markup, escape

# The heatmap's cells are wide enough to print their figure ("12,5%") inside.
CELL_WIDTH, CELL_HEIGHT = 48, 30
HEATMAP_LEFT, HEATMAP_TOP = 48, 24
LEGEND_WIDTH = 220
# Colour scales end at the first of these shares at or above the highest figure, so that a
# month of 3% occupancy still shows its busy hours (the legend says where the scale ends).
SCALE_ENDS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0)
DARK_TEXT, LIGHT_TEXT, CLOSED = "#212529", "#ffffff", "#f1f3f5"


def _shade(ratio):
    """White for 0 to deep blue for 1; grey when the room was closed (ratio None)."""
    if ratio is None:
        return CLOSED
    ratio = max(0.0, min(1.0, ratio))
    red, green, blue = (int(255 - (255 - target) * ratio) for target in (13, 71, 161))
    return f"#{red:02x}{green:02x}{blue:02x}"


def percent_figure(ratio, decimals=0):
    """The share in percent, rounded half up, as the pages and the CSV exports show it; None for no figure."""
    if ratio is None:
        return None
    return (Decimal(str(ratio)) * 100).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def percent(ratio, decimals=0):
    """E.g. "0,3%" in Russian with one decimal: 5.2 booked hours of 1,500 open are 0.3%, not 0%."""
    figure = percent_figure(ratio, decimals)
    if figure is None:
        return "—"
    return format_decimal(figure, format="#,##0." + "0" * decimals if decimals else "#,##0") + "%"


def scale_end(ratios):
    highest = max((ratio for ratio in ratios if ratio is not None), default=0)
    return next((end for end in SCALE_ENDS if highest <= end), highest)


def _svg(css_class, width, height, title):
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif">'
        f"<title>{escape(title)}</title>"
    )


def heatmap_svg(cells, weekday_names, title, closed_label):
    """Occupancy by local weekday (rows) and hour (columns), each cell with its figure, under a legend
    of the colour scale; only hours with open time are drawn."""
    by_cell = {(cell["weekday"], cell["hour"]): cell["occupancy"] for cell in cells}
    hours = sorted({hour for _weekday, hour in by_cell}) or list(range(8, 20))
    end = scale_end(by_cell.values())
    grid_width = CELL_WIDTH * len(hours)
    legend_top = HEATMAP_TOP + CELL_HEIGHT * 7 + 14
    width = HEATMAP_LEFT + max(grid_width, LEGEND_WIDTH + 160) + 4
    height = legend_top + 40
    parts = [_svg("chart-heatmap", width, height, title)]
    for column, hour in enumerate(hours):
        parts.append(
            f'<text x="{HEATMAP_LEFT + column * CELL_WIDTH + CELL_WIDTH / 2}" y="{HEATMAP_TOP - 8}" '
            f'font-size="11" text-anchor="middle">{hour:02d}:00</text>'
        )
    for weekday in range(7):
        y = HEATMAP_TOP + weekday * CELL_HEIGHT
        parts.append(
            f'<text x="{HEATMAP_LEFT - 8}" y="{y + CELL_HEIGHT / 2 + 4}" font-size="12" '
            f'text-anchor="end">{escape(weekday_names[weekday])}</text>'
        )
        for column, hour in enumerate(hours):
            ratio = by_cell.get((weekday, hour))
            intensity = None if ratio is None else ratio / end
            x = HEATMAP_LEFT + column * CELL_WIDTH
            label = f"{weekday_names[weekday]} {hour:02d}:00 — {percent(ratio, 1)}"
            parts.append(
                f'<rect x="{x}" y="{y}" width="{CELL_WIDTH - 2}" height="{CELL_HEIGHT - 2}" '
                f'fill="{_shade(intensity)}" data-occupancy="{"" if ratio is None else ratio}">'
                f"<title>{escape(label)}</title></rect>"
            )
            if ratio is not None:
                colour = LIGHT_TEXT if intensity > 0.55 else DARK_TEXT
                parts.append(
                    f'<text x="{x + CELL_WIDTH / 2 - 1}" y="{y + CELL_HEIGHT / 2 + 3}" font-size="10" '
                    f'text-anchor="middle" fill="{colour}">{escape(percent(ratio, 1))}</text>'
                )
    parts.append(_legend(HEATMAP_LEFT, legend_top, end, closed_label))
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(left, top, end, closed_label):
    """The colour scale from 0 to its end, with the grey of closed hours beside it."""
    steps = 20
    step_width = LEGEND_WIDTH / steps
    parts = [f'<g class="chart-legend" data-scale-end="{end}">']
    parts += [
        f'<rect x="{left + index * step_width:.1f}" y="{top}" width="{step_width + 0.5:.1f}" height="10" '
        f'fill="{_shade(index / (steps - 1))}"/>'
        for index in range(steps)
    ]
    parts.append(f'<rect x="{left}" y="{top}" width="{LEGEND_WIDTH}" height="10" fill="none" stroke="#adb5bd"/>')
    for share in (0, 0.5, 1):
        parts.append(
            f'<text x="{left + LEGEND_WIDTH * share}" y="{top + 24}" font-size="10" '
            f'text-anchor="middle">{escape(percent(end * share, 1))}</text>'
        )
    closed_x = left + LEGEND_WIDTH + 24
    parts.append(f'<rect x="{closed_x}" y="{top}" width="14" height="10" fill="{CLOSED}" stroke="#adb5bd"/>')
    parts.append(f'<text x="{closed_x + 20}" y="{top + 9}" font-size="10">{escape(closed_label)}</text>')
    parts.append("</g>")
    return "".join(parts)


def trend_svg(points, title):
    """Month-on-month bars of occupancy (points: "label", "short_label" under the bar, "occupancy"),
    against a scale with its lines labelled and each bar's figure above it."""
    bar, gap, chart_height, top = 52, 22, 150, 16
    left = 52
    width = left + len(points) * (bar + gap)
    baseline = top + chart_height
    height = baseline + 26
    end = scale_end(point["occupancy"] for point in points)
    parts = [_svg("chart-trend", width, height, title)]
    for share in (0, 0.5, 1):
        y = baseline - chart_height * share
        stroke = "#adb5bd" if share == 0 else "#e9ecef"
        parts.append(f'<line x1="{left - 4}" y1="{y}" x2="{width}" y2="{y}" stroke="{stroke}"/>')
        parts.append(
            f'<text x="{left - 8}" y="{y + 4}" font-size="10" text-anchor="end">'
            f"{escape(percent(end * share, 1))}</text>"
        )
    for index, point in enumerate(points):
        ratio = point["occupancy"]
        bar_height = round(chart_height * min((ratio or 0) / end, 1))
        x = left + gap / 2 + index * (bar + gap)
        y = baseline - bar_height
        figure = escape(percent(ratio, 1))
        parts.append(
            f'<rect x="{x}" y="{y}" width="{bar}" height="{bar_height}" fill="#0d47a1" '
            f'data-occupancy="{"" if ratio is None else ratio}">'
            f"<title>{escape(point['label'])}: {figure}</title></rect>"
        )
        parts.append(f'<text x="{x + bar / 2}" y="{y - 4}" font-size="11" text-anchor="middle">{figure}</text>')
        parts.append(
            f'<text x="{x + bar / 2}" y="{baseline + 16}" font-size="11" text-anchor="middle">'
            f"{escape(point['short_label'])}</text>"
        )
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

    parts = [
        _svg("chart-demand", width, height, title),
        f'<rect x="{left}" y="{top}" width="{size * 1.5}" height="{size}" fill="none" stroke="#adb5bd"/>',
    ]
    for ratio in (0, 0.5, 1):
        parts.append(
            f'<text x="{x_of(ratio)}" y="{top + size + 16}" font-size="10" text-anchor="middle">{percent(ratio)}</text>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y_of(ratio) + 4}" font-size="10" text-anchor="end">{percent(ratio)}</text>'
        )
    parts.append(
        f'<line x1="{x_of(thresholds["occupancy"])}" y1="{top}" x2="{x_of(thresholds["occupancy"])}" '
        f'y2="{top + size}" stroke="#c62828" stroke-dasharray="4 3"/>'
    )
    parts.append(
        f'<line x1="{left}" y1="{y_of(thresholds["fill_rate"])}" x2="{left + size * 1.5}" '
        f'y2="{y_of(thresholds["fill_rate"])}" stroke="#ef6c00" stroke-dasharray="4 3"/>'
    )
    parts.append(
        f'<text x="{left + size * 0.75}" y="{height - 6}" font-size="11" text-anchor="middle">{escape(x_label)}</text>'
    )
    parts.append(
        f'<text x="12" y="{top + size / 2}" font-size="11" text-anchor="middle" '
        f'transform="rotate(-90 12 {top + size / 2})">{escape(y_label)}</text>'
    )
    for row in rows:
        x, y = x_of(row["occupancy"]), y_of(row["fill_rate"])
        fill = "#c62828" if row["needs"] else "#0d47a1"
        style = f'fill="none" stroke="{fill}"' if row["fill_rate"] is None else f'fill="{fill}"'
        label = f"{row['clinic']['name']}: {x_label} {percent(row['occupancy'])}, {y_label} {percent(row['fill_rate'])}"
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" {style} data-clinic="{row["clinic"]["id"]}">'
            f"<title>{escape(label)}</title></circle>"
        )
        if row["needs"]:  # named on the chart; the others say who they are on hover, to keep 65 points legible
            parts.append(
                f'<text x="{x + 7:.1f}" y="{y - 6:.1f}" font-size="9">{escape(row["clinic"]["short_name"])}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
