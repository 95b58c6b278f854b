"""Reading check-in QR codes as the door's scanners do, with an independent decoder.

zxing-cpp (the C++ ZXing, from PyPI) reads the images. It can read Micro QR too, but the
readers attendees and door staff have — phone cameras, Chrome's BarcodeDetector that the
check-in page uses with formats ["qr_code"], jsQR — read only regular (model 2) QR codes, so
we ask zxing-cpp for exactly that format: a Micro QR then reads as nothing, as at the door.
"""

from __future__ import annotations

import base64
import io
import re

import pypdfium2
import zxingcpp
from PIL import Image

DOOR_FORMATS = zxingcpp.BarcodeFormat.QRCodeModel2


def read_qr(image: Image.Image | bytes) -> list[str]:
    """The texts of the regular QR codes in a PNG (bytes) or an image."""
    if isinstance(image, bytes):
        image = Image.open(io.BytesIO(image))
    return [result.text for result in zxingcpp.read_barcodes(image, formats=DOOR_FORMATS)]


def qr_images_on_page(html: str) -> list[bytes]:
    """The PNGs of the page's check-in QR codes (<img class="checkin-qr" src="data:...">)."""
    found = re.findall(r'<img class="checkin-qr" src="data:image/png;base64,([^"]+)"', html)
    return [base64.b64decode(data) for data in found]


def pdf_pages_as_images(pdf: bytes, dpi: int = 150) -> list[Image.Image]:
    """Each page of a PDF rendered by PDFium, as a printer or a PDF viewer would show it."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [page.render(scale=dpi / 72).to_pil() for page in document]
    finally:
        document.close()
