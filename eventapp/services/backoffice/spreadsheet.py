"""Exports as XLSX workbooks (openpyxl), for organisers who open lists in Excel or Numbers.

Why XLSX besides CSV: a workbook needs no guessing of encoding or separator, keeps dates as
dates and leading zeros as text, and carries a frozen, filterable header row. openpyxl is
the well-kept library for this (MIT, pure Python); we only write, in write-only mode, so a
list of 5,000 attendees streams without holding a cell object per value.

Printing: a room host prints the list of one session, so each page carries the session's
name, time and room in its header, repeats the column names, fits the page's width, and the
columns are as wide as their longest value (Excel's default cuts email addresses off).

Formulas: openpyxl stores any string that starts with "=" as a formula. Every text cell is
therefore written with its type forced to string, so "=cmd|' /C calc'!A0" stays text in
Excel, LibreOffice and Google Sheets, with no apostrophe added to what the attendee typed.
"""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .export import Table

DATE_FORMAT = "yyyy-mm-dd hh:mm"
DATE_WIDTH = len("2027-03-18 09:30")
COLUMN_WIDTH_MIN, COLUMN_WIDTH_MAX = 8, 60  # characters
PRINT_HEADING_MAX = 200  # Excel keeps at most 255 characters of a page header
# Excel refuses sheet titles longer than 31 characters or holding any of these.
SHEET_TITLE_MAX = 31
SHEET_TITLE_FORBIDDEN = "[]:*?/\\"


def sheet_title(title: str) -> str:
    cleaned = "".join(" " if c in SHEET_TITLE_FORBIDDEN else c for c in title).strip()
    return (cleaned or "Sheet")[:SHEET_TITLE_MAX]


def _cell(sheet: Worksheet, value: object, *, bold: bool = False) -> WriteOnlyCell:
    if value is None:
        value = ""
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text starts with
    elif isinstance(value, datetime):
        cell.number_format = DATE_FORMAT
    if bold:
        cell.font = Font(bold=True)
    return cell


def _width(value: object) -> int:
    if isinstance(value, datetime):
        return DATE_WIDTH
    return max(
        (len(line) for line in str(value if value is not None else "").splitlines()), default=0
    )


def _set_column_widths(sheet: Worksheet, table: Table) -> None:
    for index, name in enumerate(table.header):
        longest = max(
            [_width(name), *(_width(row[index]) for row in table.rows if index < len(row))]
        )
        width = min(max(longest + 2, COLUMN_WIDTH_MIN), COLUMN_WIDTH_MAX)
        sheet.column_dimensions[get_column_letter(index + 1)].width = width


def _set_printing(sheet: Worksheet, table: Table) -> None:
    """Every printed page says what it lists, repeats the header row and fits the width."""
    heading = table.heading or table.title
    sheet.oddHeader.center.text = heading[:PRINT_HEADING_MAX].replace("&", "&&")  # & is a code
    sheet.print_title_rows = "1:1"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as the list needs
    sheet.page_setup.orientation = "landscape" if len(table.header) > 6 else "portrait"


def to_xlsx(table: Table) -> bytes:
    """The whole workbook as bytes: one sheet, a bold frozen header with filters, ready to
    print."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title(table.title))
    sheet.freeze_panes = "A2"
    _set_column_widths(sheet, table)
    _set_printing(sheet, table)
    last_column = get_column_letter(max(len(table.header), 1))
    sheet.auto_filter.ref = f"A1:{last_column}{len(table.rows) + 1}"
    sheet.append([_cell(sheet, name, bold=True) for name in table.header])
    for row in table.rows:
        sheet.append([_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
