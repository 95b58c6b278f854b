"""The attendee's ticket as a PDF: event, name, sessions with times and rooms, and the QR code.

Built with ReportLab (a long-kept, pure-Python PDF library; no browser or system libraries
needed). The QR code is drawn as vector squares from segno's matrix, so it stays sharp on any
printer; the text uses DejaVu Sans where the system has it (accents and most scripts), else
the Bitstream Vera font that ReportLab ships. Every text from the database is escaped before
it reaches ReportLab's paragraph mark-up.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..services import links

_FONT_CANDIDATES = (
    (
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ),
    (
        Path(reportlab.__file__).parent / "fonts" / "Vera.ttf",
        Path(reportlab.__file__).parent / "fonts" / "VeraBd.ttf",
    ),
)
FONT, BOLD = "TicketSans", "TicketSans-Bold"


@dataclass(frozen=True)
class TicketLine:
    """One session on the ticket, already in the reader's language and the event's zone."""

    time: str
    title: str
    room: str
    note: str = ""


@dataclass(frozen=True)
class TicketText:
    """Everything the PDF says, translated by the caller (the view knows the locale)."""

    title: str  # "Ticket"
    event_name: str
    when_where: str
    name: str
    organisation: str
    code_label: str
    code: str | None  # None: no QR (a cancelled registration)
    sessions_heading: str
    column_heads: tuple[str, str, str]
    lines: list[TicketLine]
    no_sessions: str
    footer: str


def _register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    regular, bold = next((r, b) for r, b in _FONT_CANDIDATES if r.exists() and b.exists())
    pdfmetrics.registerFont(TTFont(FONT, str(regular)))
    pdfmetrics.registerFont(TTFont(BOLD, str(bold)))


class QRFlowable(Flowable):
    """A regular QR code (links.checkin_qr) drawn module by module, with its quiet zone."""

    def __init__(self, code: str, size: float):
        super().__init__()
        self.matrix = [list(row) for row in links.checkin_qr(code).matrix]
        self.size = size
        self.width = self.height = size

    def draw(self) -> None:
        count = len(self.matrix) + 2 * links.QR_QUIET_ZONE
        module = self.size / count
        canvas = self.canv
        canvas.setFillColor(colors.white)
        canvas.rect(0, 0, self.size, self.size, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        for y, row in enumerate(self.matrix):
            for x, dark in enumerate(row):
                if dark:
                    left = (x + links.QR_QUIET_ZONE) * module
                    top = self.size - (y + links.QR_QUIET_ZONE + 1) * module
                    canvas.rect(left, top, module, module, stroke=0, fill=1)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=11, leading=15)
    return {
        "base": base,
        "kind": ParagraphStyle("kind", base, fontSize=10, textColor=colors.HexColor("#555555")),
        "event": ParagraphStyle("event", base, fontName=BOLD, fontSize=20, leading=25),
        "name": ParagraphStyle("name", base, fontName=BOLD, fontSize=16, leading=21),
        "code": ParagraphStyle("code", base, fontName=BOLD, fontSize=18, leading=24),
        "heading": ParagraphStyle("heading", base, fontName=BOLD, fontSize=13, spaceBefore=8),
        "cell": ParagraphStyle("cell", base, fontSize=10, leading=13),
        "head": ParagraphStyle("head", base, fontName=BOLD, fontSize=10, leading=13),
        "small": ParagraphStyle("small", base, fontSize=9, textColor=colors.HexColor("#555555")),
    }


def _sessions_table(text: TicketText, styles) -> Table:
    cell = styles["cell"]
    rows = [[Paragraph(escape(head), styles["head"]) for head in text.column_heads]]
    for line in text.lines:
        title = escape(line.title) + (f" ({escape(line.note)})" if line.note else "")
        rows.append([Paragraph(escape(line.time), cell), Paragraph(title, cell),
                     Paragraph(escape(line.room), cell)])  # fmt: skip
    table = Table(rows, colWidths=[32 * mm, 100 * mm, 38 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.HexColor("#bbbbbb")),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    return table


def build_ticket_pdf(text: TicketText) -> bytes:
    """The ticket as PDF bytes (one A4 page for a usual programme)."""
    _register_fonts()
    styles = _styles()
    holder = [Paragraph(escape(text.name), styles["name"])]
    if text.organisation:
        holder.append(Paragraph(escape(text.organisation), styles["base"]))
    if text.code:
        holder += [Spacer(1, 4 * mm), Paragraph(escape(text.code_label), styles["base"]),
                   Paragraph(escape(text.code), styles["code"])]  # fmt: skip
    qr = QRFlowable(text.code, 58 * mm) if text.code else Spacer(58 * mm, 1)
    top = Table([[holder, qr]], colWidths=[112 * mm, 60 * mm])
    top.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story = [
        Paragraph(escape(text.title), styles["kind"]),
        Paragraph(escape(text.event_name), styles["event"]),
        Paragraph(escape(text.when_where), styles["base"]),
        Spacer(1, 6 * mm),
        top,
        Spacer(1, 4 * mm),
        Paragraph(escape(text.sessions_heading), styles["heading"]),
    ]
    if text.lines:
        story.append(_sessions_table(text, styles))
    else:
        story.append(Paragraph(escape(text.no_sessions), styles["base"]))
    story += [Spacer(1, 6 * mm), Paragraph(escape(text.footer), styles["small"])]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{text.title} · {text.event_name}",
        author=text.event_name,
        subject=text.name,
    )
    document.build(story)
    return buffer.getvalue()
