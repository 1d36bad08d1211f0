"""QR codes as inline SVG (no image library needed, allowed by the page's CSP)."""

import qrcode
import qrcode.image.svg


def svg(data):
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return image.to_string(encoding="unicode")
