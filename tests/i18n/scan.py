"""Text a person reads in a template that is not marked for translation.

The template is lexed as Django does; every tag and variable is masked (keeping offsets), as is what is already
translated ({% blocktranslate %} bodies) or never shown ({% comment %}, <script>, <style>, code samples). What
remains between HTML tags, and in the attributes people read (title, placeholder, aria-label, alt, label,
data-confirm), must hold no word.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from django.template.base import DebugLexer, TokenType

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

VAR, BLOCK, HIDDEN = "\x01", "\x02", "\x03"
# Bodies never shown as text or already translated as a whole.
SKIPPED_BLOCKS = {"comment": "endcomment", "verbatim": "endverbatim", "blocktranslate": "endblocktranslate",
                  "blocktrans": "endblocktrans"}
# Elements whose content is code, a key or a URL sample, not prose.
RAW_ELEMENTS = ("script", "style", "pre", "code", "kbd", "samp")
READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "label", "data-confirm")
WORD = re.compile(r"(?<![&\w])[^\W\d_]{2,}(?!;)")  # not an entity such as &nbsp;
# Reviewed exceptions: words that read the same in every language (codes, names of things).
ALLOWED = {"API", "CSV", "URL", "IBAN", "ISO", "UTC", "JSON", "HTML", "ID", "PayPal", "SKU", "IP", "UA", "KPI",
           "GET", "POST", "HTTP", "HTTPS", "TXT", "CNAME", "DNS", "EUR", "USD", "htmx", "px"}
# Filter arguments people read (`|default:"system"` must be `|default:_("system")`).
FILTER_TEXT = re.compile(r"\|(?:default|default_if_none|yesno):(?P<q>[\"'])(?P<text>[^\"']*)(?P=q)")
# Sentences handed to an include (`with empty_text="..."` must be `with empty_text=_("...")`).
KWARG_TEXT = re.compile(r"(?<![(\w])(?:(?:label|title|confirm|empty_text|text)=(?P<q1>[\"'])(?P<t1>[^\"']+)(?P=q1)"
                        r"|\w+=(?P<q>[\"'])(?P<text>[^\"']* [^\"']*)(?P=q))")
# Values of an include's kwargs that are CSS classes or keys, not text.
NOT_TEXT_KWARGS = re.compile(r"^(style|kind|status|css|classes|name|value)=")


@dataclass
class Piece:
    start: int  # offsets in the template's source
    end: int
    kind: str  # "text", "attribute" or "filter"

    def source(self, src: str) -> str:
        return src[self.start:self.end]


def masked(src: str) -> str:
    """The source with every tag and variable (and skipped body) replaced by a filler of the same length."""
    out = list(src)
    skip_until = None
    for token in DebugLexer(src).tokenize():
        start, end = token.position
        if token.token_type == TokenType.TEXT:
            if skip_until is not None:
                out[start:end] = HIDDEN * (end - start)
            continue
        filler = VAR if token.token_type == TokenType.VAR else BLOCK
        if token.token_type == TokenType.COMMENT:
            filler = HIDDEN
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents.split() else ""
            if skip_until is None and name in SKIPPED_BLOCKS:
                skip_until = SKIPPED_BLOCKS[name]
                filler = HIDDEN
            elif skip_until is None and token.contents.split() == ["block", "body_class"]:
                skip_until = "endblock"  # CSS classes, not text
                filler = HIDDEN
            elif skip_until is not None:
                filler = HIDDEN
                if name == skip_until:
                    skip_until = None
        out[start:end] = filler * (end - start)
    return "".join(out)


def _has_words(text: str) -> bool:
    words = WORD.findall(text)
    return any(word not in ALLOWED for word in words)


HTML = re.compile(
    r"<!--.*?-->"
    r"|<(?P<raw>" + "|".join(RAW_ELEMENTS) + r")\b[^>]*>.*?</(?P=raw)\s*>"
    r"|<[a-zA-Z/!][^>]*>",
    re.S,
)
ATTRIBUTE = re.compile(r"\s(?P<name>" + "|".join(READ_ATTRIBUTES) + r")\s*=\s*(?P<q>[\"'])(?P<value>.*?)(?P=q)", re.S)


def _text_pieces(m: str, start: int, end: int, kind: str):
    """Runs of text between tags (blocks split them; variables stay inside), trimmed, that hold a word."""
    for match in re.finditer(r"[^" + BLOCK + HIDDEN + r"]+", m[start:end]):
        run = match.group()
        if not _has_words(run.replace(VAR, " ")):
            continue
        lead = len(run) - len(run.lstrip())
        trail = len(run) - len(run.rstrip())
        piece_start = start + match.start() + lead
        piece_end = start + match.end() - trail
        yield Piece(piece_start, piece_end, kind)


def untranslated(src: str, *, html: bool = True) -> list[Piece]:
    m = masked(src)
    pieces = []
    if html:
        position = 0
        for match in HTML.finditer(m):
            pieces += _text_pieces(m, position, match.start(), "text")
            position = match.end()
            if match.group("raw") is None and not match.group().startswith("<!--"):
                for attribute in ATTRIBUTE.finditer(match.group()):
                    vstart = match.start() + attribute.start("value")
                    pieces += _text_pieces(m, vstart, vstart + len(attribute.group("value")), "attribute")
        pieces += _text_pieces(m, position, len(m), "text")
    else:
        pieces += _text_pieces(m, 0, len(m), "text")
    for token in DebugLexer(src).tokenize():
        if token.token_type == TokenType.BLOCK and token.contents.split()[0] in ("include", "with"):
            for match in KWARG_TEXT.finditer(token.contents):
                group = "t1" if match.group("t1") is not None else "text"
                if NOT_TEXT_KWARGS.match(match.group()) or not _has_words(match.group(group)):
                    continue
                offset = src.index(token.contents, token.position[0])
                pieces.append(Piece(offset + match.start(group), offset + match.end(group), "filter"))
        if token.token_type == TokenType.VAR or (
                token.token_type == TokenType.BLOCK and token.contents.split()[0] not in ("url", "if", "elif")):
            for match in FILTER_TEXT.finditer(token.contents):
                if _has_words(match.group("text")):
                    offset = src.index(token.contents, token.position[0])
                    pieces.append(Piece(offset + match.start("text"), offset + match.end("text"), "filter"))
    return sorted(pieces, key=lambda p: p.start)


def template_files() -> list[Path]:
    return sorted(p for p in TEMPLATES.rglob("*") if p.suffix in (".html", ".txt"))
