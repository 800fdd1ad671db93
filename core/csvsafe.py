"""Spreadsheet-safe CSV cells (OWASP CSV injection): the one rule every CSV export uses."""

FORMULA_CHARS = ("=", "+", "-", "@")
# A spreadsheet skips leading tabs, carriage returns and line feeds (and, in some, spaces) before reading a
# formula: "\r=HYPERLINK(...)" runs as one.
LEADING_BLANKS = " \t\r\n"
# Text whose first character is none of these is never formula-like (the fast path of an export's text cells).
FIRST_CHARS = frozenset(FORMULA_CHARS) | frozenset(LEADING_BLANKS)


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_CHARS) or text[:1] in ("\t", "\r", "\n") or (
        text.lstrip(LEADING_BLANKS).startswith(FORMULA_CHARS))


def spreadsheet_text(text: str) -> str:
    """`text`, with a leading quote when a spreadsheet could read it as a formula."""
    if not text or text[0] not in FIRST_CHARS:
        return text
    return "'" + text if is_formula_like(text) else text
