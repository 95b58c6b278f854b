"""Name badges as a PDF on common A4 label sheets: name, organisation and the check-in QR code.

Why reportlab: it is the well-kept pure-drawing PDF library (BSD), needs no system libraries
(WeasyPrint needs Pango and a browser-like layout we do not need for fixed-size labels), and
draws the QR code as vector squares, so it stays sharp on any printer.

The sheets are the two A4 layouts label makers sell most for name badges, full-width with no
gutter (Avery/Herma 105 x 74 mm, 8 per sheet; 105 x 59.4 mm, 10 per sheet). A badge keeps a
5 mm inner margin so a printer that shifts a millimetre does not cut the name. The QR code is
a regular QR code (never Micro QR, which phone cameras do not read) of the attendee's check-in
code, with error correction "M" and the 4-module quiet zone the standard asks for.

The text is set in Bitstream Vera, the TrueType font reportlab ships, embedded in the PDF:
the PDF's own Helvetica has only WinAnsi (Latin-1) and printed "Yılmaz" as "Y■lmaz"; Vera
also has the Turkish and Polish letters of the names a Dutch crowd brings. A letter it lacks
(Czech "ř") prints as its base letter ("r"), never as a black box.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from functools import cache

import segno
from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from ...extensions import db
from ...i18n import in_reader_language
from ...models import Attendee, Event
from ..errors import DomainError
from ..validation import ID_MAX
from .attendees import AttendeeFilter, attendee_query


@dataclass(frozen=True)
class Sheet:
    """A label sheet: columns x rows of equal labels filling an A4 page."""

    key: str
    columns: int
    rows: int

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def label_size(self) -> tuple[float, float]:
        width, height = A4
        return width / self.columns, height / self.rows


SHEETS = {sheet.key: sheet for sheet in (Sheet("a4-2x4", 2, 4), Sheet("a4-2x5", 2, 5))}
DEFAULT_SHEET = "a4-2x4"


def sheet_named(key: str | None) -> Sheet:
    """The sheet a `?sheet=` names; none given is the default. An unknown name is refused
    (400) rather than replaced: a PDF silently laid out for another label sheet prints
    every badge across the labels' edges."""
    if not key:
        return SHEETS[DEFAULT_SHEET]
    if key not in SHEETS:
        message = _(
            "Unknown label sheet “%(sheet)s”. Choose one of: %(choices)s.",
            sheet=key[:40],
            choices=", ".join(SHEETS),
        )
        raise DomainError(message, "unknown_sheet", 400)
    return SHEETS[key]


MARGIN = 5 * mm
FONT = "BadgeVera"
FONT_BOLD = "BadgeVera-Bold"
FONT_FILES = {FONT: "Vera.ttf", FONT_BOLD: "VeraBd.ttf"}  # in reportlab's fonts folder
QUIET_ZONE = 4  # modules of white around the code, as ISO/IEC 18004 asks


@cache
def register_fonts() -> None:
    """Make the badge fonts known to reportlab (once per process)."""
    for name, filename in FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, filename))


def printable(text: str) -> str:
    """`text` in the badge font's letters: one it lacks becomes its base letter (ř → r), or
    "?" when it has none, rather than the black box a PDF viewer draws."""
    register_fonts()
    glyphs = pdfmetrics.getFont(FONT_BOLD).face.charToGlyph
    return "".join(_printable_char(ch, glyphs) for ch in text)


def _printable_char(ch: str, glyphs: dict) -> str:
    if ord(ch) in glyphs or ch.isspace():
        return ch
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if ord(c) in glyphs)
    return base or "?"


@dataclass(frozen=True)
class Badge:
    name: str
    organisation: str
    code: str


def badges_for(attendees: list[Attendee]) -> list[Badge]:
    """Badges in the order given; cancelled or anonymised attendees get none."""
    return [
        Badge(printable(a.name), printable(a.organisation or ""), a.checkin_code)
        for a in attendees
        if a.status == "active" and a.anonymised_at is None
    ]


def qr_matrix(code: str) -> list[list[bool]]:
    """The dark modules of a regular QR code (not Micro QR) for the check-in code."""
    symbol = segno.make_qr(code, error="m")
    return [[bool(module) for module in row] for row in symbol.matrix]


def fitted_size(text: str, font: str, largest: float, width: float) -> float:
    """The largest font size up to `largest` at which `text` fits `width` (at least 7 pt)."""
    register_fonts()
    size = largest
    while size > 7 and stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def clipped(text: str, font: str, size: float, width: float) -> str:
    """The text, shortened with an ellipsis only if even the smallest size does not fit."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _draw_qr(canvas: Canvas, code: str, x: float, y: float, side: float) -> None:
    matrix = qr_matrix(code)
    count = len(matrix) + 2 * QUIET_ZONE
    module = side / count
    canvas.setFillColorRGB(0, 0, 0)
    for row_number, row in enumerate(matrix):
        for column_number, dark in enumerate(row):
            if dark:
                left = x + (column_number + QUIET_ZONE) * module
                top = y + side - (row_number + QUIET_ZONE + 1) * module
                canvas.rect(left, top, module, module, stroke=0, fill=1)


def _draw_badge(canvas: Canvas, badge: Badge, x: float, y: float, w: float, h: float) -> None:
    qr_side = min(h - 2 * MARGIN, w * 0.38)
    _draw_qr(canvas, badge.code, x + w - MARGIN - qr_side, y + (h - qr_side) / 2, qr_side)
    text_width = w - 3 * MARGIN - qr_side
    name_size = fitted_size(badge.name, FONT_BOLD, 20, text_width)
    canvas.setFont(FONT_BOLD, name_size)
    name_y = y + h / 2 + 2 * mm
    canvas.drawString(x + MARGIN, name_y, clipped(badge.name, FONT_BOLD, name_size, text_width))
    if badge.organisation:
        org_size = fitted_size(badge.organisation, FONT, 12, text_width)
        canvas.setFont(FONT, org_size)
        line = clipped(badge.organisation, FONT, org_size, text_width)
        canvas.drawString(x + MARGIN, name_y - org_size - 3 * mm, line)
    canvas.setFont(FONT, 8)
    canvas.drawString(x + MARGIN, y + MARGIN, badge.code)


def badges_pdf(event: Event, badges: list[Badge], sheet_key: str = DEFAULT_SHEET) -> bytes:
    """The whole PDF: badges left to right, top to bottom, a new page when a sheet is full."""
    register_fonts()
    sheet = SHEETS[sheet_key]
    width, height = sheet.label_size
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    name = in_reader_language(event, "name")  # the organiser's language, as the rest of the PDF
    canvas.setTitle(name)
    canvas.setSubject(_("Badges"))
    for index, badge in enumerate(badges):
        slot = index % sheet.per_page
        if index and slot == 0:
            canvas.showPage()
        column, row = slot % sheet.columns, slot // sheet.columns
        x, y = column * width, A4[1] - (row + 1) * height
        _draw_badge(canvas, badge, x, y, width, height)
    if not badges:
        canvas.setFont(FONT, 12)
        canvas.drawString(20 * mm, A4[1] - 30 * mm, name)
    canvas.save()
    return buffer.getvalue()


def selected_attendees(event: Event, wanted: AttendeeFilter, raw_ids: list[str]) -> list[Attendee]:
    """The attendees the filter matches, narrowed to the ids ticked, if any were (ids that are
    not numbers or belong to another event are ignored, never an error)."""
    stmt = attendee_query(event, wanted)
    ids = {
        int(raw) for raw in raw_ids if raw.isascii() and raw.isdigit() and 0 < int(raw) <= ID_MAX
    }
    if raw_ids:
        stmt = stmt.where(Attendee.id.in_(ids or {0}))
    return list(db.session.scalars(stmt))


def qr_svg(code: str) -> str:
    """The same regular QR code as inline SVG, for the preview page (scaled by CSS)."""
    return segno.make_qr(code, error="m").svg_inline(scale=1, border=QUIET_ZONE, omitsize=True)
