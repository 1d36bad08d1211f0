"""Text the portal writes into files other programs read: spreadsheets (CSV), reference managers
(RIS, BibTeX) and calendars (iCalendar).

Two kinds of injection are closed here, once for every export:

- a line break inside a value starts a new line, which RIS reads as a new tag (a DOI with
  CR/LF could add ``UR  - …`` or end the record), so every value is written on one line;
- a spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return as a formula (CSV injection, OWASP): such a cell gets a leading single quote, which
  the spreadsheet shows as text and does not run.
"""

import csv
import io

from flask import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def one_line(text):
    """The text with every line break (CR, LF, CRLF and Unicode's line separators) made a space."""
    return " ".join(str(text).splitlines())


def csv_cell(value):
    """A value as a CSV cell no spreadsheet reads as a formula: text starting with a formula
    character is quoted with a leading ``'``; numbers stay numbers; None is an empty cell."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_STARTS):
        value = "'" + value
    return one_line(value)


def csv_response(rows, filename):
    """The rows as a CSV download, every cell through `csv_cell`."""
    out = io.StringIO()
    csv.writer(out).writerows([csv_cell(value) for value in row] for row in rows)
    # A byte-order mark lets spreadsheet programs read the Cyrillic text as UTF-8.
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
