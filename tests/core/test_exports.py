"""What the portal writes into files that spreadsheets, reference managers and calendars read."""

import pytest

from portal.core.exports import csv_cell, one_line


@pytest.mark.parametrize("typed", ['=HYPERLINK("http://evil")', "+7 495", "-1+1", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_quoted_as_text(typed):
    cell = csv_cell(typed)
    assert cell.startswith("'") and cell[1:].strip() == one_line(typed).strip()


def test_plain_text_numbers_and_empty_values_are_kept():
    assert [csv_cell(value) for value in ("ПК-1", "a=b", -5, 0.125, None)] == ["ПК-1", "a=b", -5, 0.125, ""]


def test_line_breaks_become_spaces():
    assert one_line("10.1000/x\r\nUR  - http://evil\rb\nc\u2028d") == "10.1000/x UR  - http://evil b c d"
