"""Turning decoded text into clean text: the same rules for every format.

Loaders call :func:`clean_text` on whatever they extracted, so chunking and the index
only ever see printable characters, ``\\n`` line breaks and ``\\t``.
"""

from __future__ import annotations

import re
import unicodedata

# C0/C1 control characters except tab and newline, plus other invisible debris that
# extraction leaves behind (NUL, DEL, zero-width and byte-order marks).
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u2028\u2029\ufeff\ufffe]"
)
# Terminal formatting in text saved from a terminal or from man/nroff: ANSI escape sequences
# ("ESC[1m" bold, "ESC[4m" underline) and overstriking ("m\bm" bold, "_\bm" underline). Only
# their ESC or backspace is a control character; without this the "[1m" would stay in the words.
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_OVERSTRIKE = re.compile(r"[^\n\x08]\x08")
# Ligatures PDF writers emit; replacing them lets "file" match the word typed as "ﬁle".
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st",
                            "ﬆ": "st", "\u00ad": "", "\u00a0": " ", "\u202f": " "})
# A run of this many characters without whitespace is not prose (base64, data: URIs,
# binary debris); it would only fill the index with noise.
MAX_WORD_CHARS = 1000
_NOT_PROSE = re.compile(rf"\S{{{MAX_WORD_CHARS + 1},}}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def _without_terminal_formatting(text: str) -> str:
    return _OVERSTRIKE.sub("", _ANSI_ESCAPE.sub("", text))


def clean_text(text: str) -> str:
    """Normalise line breaks; strip control characters and non-prose runs; keep the words."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = _without_terminal_formatting(text)
    # A soft hyphen where a line was broken marks one word split in two: join it.
    text = re.sub(r"\u00ad[ \t]*\n[ \t]*", "", text)
    text = unicodedata.normalize("NFC", text).translate(_LIGATURES)
    text = _CONTROL.sub("", text)
    text = _NOT_PROSE.sub("", text)
    text = _TRAILING_SPACE.sub("\n", text)
    text = _MANY_BLANK_LINES.sub("\n\n", text)
    return text.strip("\n ")


def unreadable_fraction(text: str) -> float:
    """Share of characters that are control codes or decoding replacements: high means binary.
    Terminal formatting is text, however dense its escape codes."""
    text = _without_terminal_formatting(text)
    if not text:
        return 0.0
    bad = sum(1 for ch in text if (ch < " " and ch not in "\n\r\t\f") or ch in "\ufffd\x7f"
              or "\x80" <= ch <= "\x9f")
    return bad / len(text)
