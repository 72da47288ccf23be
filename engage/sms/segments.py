"""How many SMS segments a text takes: GSM-7 (160, or 153 a part) or UCS-2 (70, or 67 a part)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    count: int

    def cost(self, price_per_segment: Decimal) -> Decimal:
        return price_per_segment * self.count


def count_segments(text: str) -> Segments:
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        single, part = 160, 153
        encoding = "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
        encoding = "UCS-2"
    if units <= single:
        return Segments(encoding, units, 1 if units else 0)
    return Segments(encoding, units, -(-units // part))
