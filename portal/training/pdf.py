"""Printable documents: the attendance certificate and the learning record, always in Russian.

They are documents for an accreditation portfolio, so they are written in Russian
whatever language the portal is shown in (the msgids are English like every other
string; the Russian catalogue supplies the text). The font is DejaVu Sans, shipped
in fonts/ with its licence, because the PDF base fonts have no Cyrillic glyphs.
"""

import io
from pathlib import Path

import qrcode
from flask_babel import force_locale, format_decimal
from flask_babel import gettext as _
from markupsafe import escape
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from portal.core.time import format_day, to_local
from portal.training.notices import format_hours

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"
DOCUMENT_LOCALE = "ru"


def _register_fonts():
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    for name, filename in ((FONT, "DejaVuSans.ttf"), (FONT_BOLD, "DejaVuSans-Bold.ttf")):
        path = FONT_DIR / filename
        if not path.is_file():
            raise RuntimeError(f"the font {path} is missing; it ships with the portal (portal/training/fonts)")
        pdfmetrics.registerFont(TTFont(name, str(path)))


def nmo_statement(nmo_id):
    if nmo_id:
        return _(
            "The course is accredited in the CME system (continuing medical education), accreditation id %(nmo_id)s.",
            nmo_id=nmo_id,
        )
    return _("The course is not accredited in the CME system: this certificate gives no CME credit.")


def certificate_pdf(certificate, verify_url):
    """One landscape A4 page: who attended what, when, for how many hours, the number and a QR code."""
    _register_fonts()
    timezone = certificate.enrolment.session.room.timezone
    buffer = io.BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(buffer, pagesize=(width, height))
    with force_locale(DOCUMENT_LOCALE):
        pdf.setTitle(_("Certificate %(number)s", number=certificate.number))
        pdf.setAuthor(certificate.clinic_name)
        pdf.setStrokeColor(colors.HexColor("#0d6efd"))
        pdf.setLineWidth(3)
        pdf.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)

        centre = width / 2
        pdf.setFont(FONT, 12)
        pdf.drawCentredString(centre, height - 30 * mm, certificate.clinic_name)
        pdf.setFont(FONT_BOLD, 28)
        pdf.drawCentredString(centre, height - 50 * mm, _("CERTIFICATE"))
        pdf.setFont(FONT, 14)
        pdf.drawCentredString(centre, height - 59 * mm, _("of attendance at a professional training"))
        pdf.drawCentredString(centre, height - 68 * mm, _("No. %(number)s", number=certificate.number))

        pdf.setFont(FONT, 13)
        pdf.drawCentredString(centre, height - 84 * mm, _("This certifies that"))
        pdf.setFont(FONT_BOLD, 20)
        pdf.drawCentredString(centre, height - 95 * mm, certificate.holder_name)
        pdf.setFont(FONT, 13)
        pdf.drawCentredString(
            centre, height - 106 * mm, _("attended the training on %(date)s", date=format_day(certificate.session_date))
        )

        body = ParagraphStyle("body", fontName=FONT_BOLD, fontSize=15, leading=19, alignment=1)
        title = Paragraph(f"«{_escape(certificate.course_title)}»", body)
        _width, title_height = title.wrap(width - 90 * mm, 40 * mm)
        title.drawOn(pdf, 45 * mm, height - 112 * mm - title_height)
        top = height - 118 * mm - title_height

        pdf.setFont(FONT, 13)
        pdf.drawCentredString(centre, top, _("Volume: %(hours)s", hours=format_hours(certificate.academic_hours)))
        small = ParagraphStyle("small", fontName=FONT, fontSize=11, leading=14, alignment=1)
        statement = Paragraph(_escape(nmo_statement(certificate.nmo_id)), small)
        _width, statement_height = statement.wrap(width - 110 * mm, 30 * mm)
        statement.drawOn(pdf, 55 * mm, top - 6 * mm - statement_height)

        pdf.setFont(FONT, 11)
        if certificate.trainer_name:
            pdf.drawString(25 * mm, 32 * mm, _("Trainer: %(name)s", name=certificate.trainer_name))
        pdf.drawString(
            25 * mm, 25 * mm, _("Issued on %(date)s", date=format_day(to_local(certificate.issued_at, timezone)))
        )
        pdf.setFont(FONT, 9)
        pdf.drawRightString(width - 52 * mm, 25 * mm, _("Check this certificate:"))
        pdf.drawRightString(width - 52 * mm, 20 * mm, verify_url)
        pdf.drawImage(ImageReader(_qr_image(verify_url)), width - 50 * mm, 17 * mm, 34 * mm, 34 * mm)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _qr_image(url):
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=1, box_size=8)
    code.add_data(url)
    code.make(fit=True)
    image = io.BytesIO()
    code.make_image().save(image, format="PNG")
    image.seek(0)
    return image


def _escape(text):
    """Paragraph text is a small markup language: user text must not be read as tags."""
    return str(escape(text))


def learning_record_pdf(user, record):
    """The learning record as a printable table with totals, for the doctor's portfolio."""
    _register_fonts()
    buffer = io.BytesIO()
    with force_locale(DOCUMENT_LOCALE):
        document = SimpleDocTemplate(
            buffer,
            pagesize=landscape(A4),
            leftMargin=15 * mm,
            rightMargin=15 * mm,
            topMargin=15 * mm,
            bottomMargin=15 * mm,
            title=_("Learning record"),
            author=user.full_name,
        )
        heading = ParagraphStyle("heading", fontName=FONT_BOLD, fontSize=16, leading=20)
        text = ParagraphStyle("text", fontName=FONT, fontSize=10, leading=13)
        cell = ParagraphStyle("cell", fontName=FONT, fontSize=9, leading=11)
        story = [
            Paragraph(_escape(_("Learning record")), heading),
            Paragraph(_escape(user.full_name), text),
            Paragraph(_escape(user.clinic.name if user.clinic else ""), text),
            Paragraph(
                _escape(
                    _(
                        "Period: %(first)s – %(last)s",
                        first=format_day(record.first_day),
                        last=format_day(record.last_day),
                    )
                ),
                text,
            ),
            Spacer(1, 6 * mm),
        ]
        # Headers are paragraphs so that a long one ("Академические часы") wraps inside its column.
        header = ParagraphStyle("header", fontName=FONT_BOLD, fontSize=9, leading=11)
        rows = [
            [
                Paragraph(_escape(label), header)
                for label in (_("Date"), _("Training"), _("Trainer"), _("Academic hours"), _("CME"), _("Certificate"))
            ]
        ]
        for line in record.rows:
            rows.append(
                [
                    format_day(line.day),
                    Paragraph(_escape(line.title), cell),
                    Paragraph(_escape(line.trainer_name), cell),
                    format_decimal(line.hours),
                    Paragraph(_escape(line.nmo_id or _("not CME")), cell),
                    line.certificate_number or "",
                ]
            )
        table = Table(rows, colWidths=[25 * mm, 80 * mm, 55 * mm, 35 * mm, 35 * mm, 37 * mm], repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), FONT, 9),
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story += [table, Spacer(1, 6 * mm)]
        story.append(
            Paragraph(
                _escape(
                    _(
                        "Sessions attended: %(count)d. Total: %(total)s, of them with CME accreditation: %(nmo)s.",
                        count=len(record.rows),
                        total=format_hours(record.total_hours),
                        nmo=format_hours(record.nmo_hours),
                    )
                ),
                text,
            )
        )
        document.build(story)
    return buffer.getvalue()
