"""Bytes to text for plain-text formats: byte-order marks, then UTF-8, then Windows-1252.

UTF-16 without a BOM (Windows "Unicode" text from some tools) is recognised by its
pattern of zero bytes. Windows-1252 is the fallback because it is what old Windows text
files in offices almost always are, and it is a superset of Latin-1's printable range.
"""

from __future__ import annotations

import codecs

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_text(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used). Never raises: undecodable bytes become U+FFFD."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="replace"), encoding
    bomless_utf16 = _bomless_utf16(data)
    if bomless_utf16:
        return data.decode(bomless_utf16, errors="replace"), bomless_utf16
    # Valid UTF-8 wins even over a declared charset: text in another encoding almost never
    # happens to be valid UTF-8, while pages saved as UTF-8 under an old <meta> are common.
    candidates = ["utf-8"]
    if declared and not declared.lower().replace("-", "").startswith(("utf16", "utf32")):
        candidates.append(declared)
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            continue
    if _mostly_utf8(data):
        return data.decode("utf-8", errors="replace"), "utf-8"
    return data.decode("cp1252", errors="replace"), "cp1252"


def _mostly_utf8(data: bytes) -> bool:
    """UTF-8 with a few broken bytes (a file cut mid-character, one pasted Windows quote).

    Windows-1252 text is almost never valid UTF-8 in even one multi-byte sequence, so many
    well-formed sequences against a few errors means UTF-8.
    """
    text = data.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    well_formed = sum(1 for ch in text if ch > "\x7f" and ch != "\ufffd")
    return well_formed >= 5 * broken


def _bomless_utf16(data: bytes) -> str | None:
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even_zeros = sample[0::2].count(0)
    odd_zeros = sample[1::2].count(0)
    half = len(sample) // 2
    # ASCII-range text in UTF-16 has a zero in every other byte.
    if odd_zeros > 0.4 * half and even_zeros < 0.05 * half:
        return "utf-16-le"
    if even_zeros > 0.4 * half and odd_zeros < 0.05 * half:
        return "utf-16-be"
    return None
