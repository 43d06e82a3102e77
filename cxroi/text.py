"""User-supplied text (scenario, segment and initiative names, descriptions) shown and used safely.

Streamlit renders Markdown in messages, captions, expander and button labels: a name such as
``![x](http://host/pixel.png)`` would fetch an image and ``:red[**APPROVED**]`` would style itself.
:func:`literal` turns any text into Markdown that displays exactly its characters.
:func:`file_stem` turns a name into a short, portable file-name stem in any script.
"""

from __future__ import annotations

import re
import unicodedata

#: characters Markdown, GitHub-flavoured Markdown or Streamlit's directives (``:red[…]``,
#: ``:material/…:``, ``$…$``) give a meaning inside a line (a colon only when text follows it;
#: links and images need their brackets); a backslash makes each a plain character
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>$&~]|:(?=\S))")
#: what makes a line a heading, list item, quote or rule when it starts the text
_BLOCK_START = re.compile(r"^(\s*|\s*\d+)([#+=>-]|(?<=\d)[.)])")
#: GitHub-flavoured Markdown turns "http://…", "www.…" and "name@host" in plain text into links,
#: and Streamlit ":smile:" or ":material/home:" into icons, escaped or not; a word joiner at these
#: places (after such a colon, after "www", before "@") stops it without changing what is seen
WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?<=\\:)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)
#: file-name stems are cut to this many UTF-8 bytes (file systems allow 255 bytes per name; a
#: suffix such as "-v12.parquet" and the temporary prefix of the atomic writers must still fit)
FILE_STEM_MAX_BYTES = 96
#: names Windows reserves for devices, whatever the suffix
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def literal(text: object) -> str:
    """``text`` as Markdown that shows its exact characters on one line: every Markdown and
    Streamlit directive character escaped (and a heading, list or quote marker at its start),
    line breaks shown as spaces, and an invisible word joiner (U+2060) after such a colon,
    inside "www." and before "@" so addresses and icon codes are not made links or icons."""
    flat = " ".join(str(text).splitlines())
    escaped = _BLOCK_START.sub(r"\1\\\2", _MARKDOWN_SPECIAL.sub(r"\\\1", flat))
    return _AUTOLINK.sub(WORD_JOINER, escaped)


def file_stem(name: str, fallback: str = "forecast", max_bytes: int = FILE_STEM_MAX_BYTES) -> str:
    """A file-name stem for ``name``: letters and digits of any script kept (NFC), every other
    character a ``_`` (runs collapsed), at most ``max_bytes`` UTF-8 bytes cut at a character
    boundary; ``fallback`` when nothing is left, and a ``_`` after a reserved device name."""
    kept = "".join(c if c.isalnum() or c in "-_" else "_" for c in unicodedata.normalize("NFC", name))
    stem = re.sub(r"_+", "_", kept).strip("_-")
    stem = stem.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore").rstrip("_-")
    if not stem:
        return fallback
    return f"{stem}_" if stem.lower() in _RESERVED else stem
