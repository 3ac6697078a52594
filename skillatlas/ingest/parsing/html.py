"""HTML reader: the nesting depth is measured by a streaming tag counter before the HTML is parsed
(:data:`HTML_MAX_DEPTH`); title from ``<title>`` or ``<h1>``, posted date from ``<meta>``; visible text one line
per block, table cells joined with `` | ``."""

from __future__ import annotations

import contextlib
import re
from datetime import date
from typing import Any

from skillatlas.errors import ErrorKind, ItemError
from skillatlas.ingest.parsing.common import reason
from skillatlas.ingest.parsing.decode import decode_text
from skillatlas.ingest.parsing.metadata import parse_iso_date, short_title

__all__ = ["HTML_MAX_DEPTH", "html_nesting_depth", "parse_html"]

HTML_MAX_DEPTH = 1_000

_VOID_TAGS = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
        "keygen",
        "command",
        "basefont",
        "frame",
        "isindex",
    }
)
_RAW_TEXT_TAGS = frozenset({"script", "style", "textarea", "title", "xmp", "noscript", "plaintext"})
_AUTO_CLOSE: dict[str, frozenset[str]] = {
    "p": frozenset({"p"}),
    "li": frozenset({"li"}),
    "dt": frozenset({"dt", "dd"}),
    "dd": frozenset({"dt", "dd"}),
    "tr": frozenset({"tr", "td", "th"}),
    "td": frozenset({"td", "th"}),
    "th": frozenset({"td", "th"}),
    "option": frozenset({"option"}),
    "thead": frozenset({"tbody", "tfoot"}),
    "tbody": frozenset({"thead", "tbody"}),
}
_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)\b[^>]*?(/?)>|<!--|<!\[CDATA\[")


def html_nesting_depth(html: str, *, stop_at: int | None = None) -> int:
    """Maximum element nesting depth of ``html``, by a streaming tag counter (no DOM is built).

    Void elements and self-closing tags do not nest; optional end tags (``<p>``, ``<li>``, ``<td>``...) are
    closed implicitly like a browser would; the content of ``<script>``/``<style>``/comments is skipped.
    Stops early once ``stop_at`` is exceeded.
    """
    stack: list[str] = []
    deepest = 0
    pos = 0
    n = len(html)
    while pos < n:
        m = _TAG_RE.search(html, pos)
        if m is None:
            break
        token = m.group()
        if token == "<!--":
            end = html.find("-->", m.end())
            pos = n if end < 0 else end + 3
            continue
        if token == "<![CDATA[":
            end = html.find("]]>", m.end())
            pos = n if end < 0 else end + 3
            continue
        pos = m.end()
        closing, name, self_closing = m.group(1), m.group(2).casefold(), m.group(3)
        if closing:
            for k in range(len(stack) - 1, max(-1, len(stack) - 65), -1):
                if stack[k] == name:
                    del stack[k:]
                    break
            continue
        if name in _VOID_TAGS or self_closing:
            continue
        implied = _AUTO_CLOSE.get(name)
        if implied and stack and stack[-1] in implied:
            stack.pop()
        if name in _RAW_TEXT_TAGS:
            end = _find_ci(html, f"</{name}", pos)
            pos = n if end < 0 else end
            stack.append(name)
            deepest = max(deepest, len(stack))
            continue
        stack.append(name)
        if len(stack) > deepest:
            deepest = len(stack)
            if stop_at is not None and deepest > stop_at:
                break
    return deepest


def _find_ci(text: str, needle: str, start: int) -> int:
    m = re.compile(re.escape(needle), re.IGNORECASE).search(text, start)
    return m.start() if m else -1


_DROP_TAGS = [
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "footer",
    "svg",
    "iframe",
    "object",
    "canvas",
    "head",
    "button",
    "select",
    "form",
]
_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "li",
        "main",
        "menu",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
        "html",
    }
)
_CELL_TAGS = frozenset({"td", "th"})
_META_CHARSET_RE = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", re.IGNORECASE)
_WS_RE = re.compile(r"\s+")


def _decode_html(data: bytes) -> str:
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return decode_text(data, what="HTML")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    m = _META_CHARSET_RE.search(data[:4096])
    if m:
        charset = m.group(1).decode("ascii", "replace")
        with contextlib.suppress(LookupError, UnicodeDecodeError):
            return data.decode(charset)
    return decode_text(data, what="HTML")


def _html_text(root: Any) -> str:
    out: list[str] = []
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        if closing:
            out.append("\n" if node.tag not in _CELL_TAGS else " | ")
            continue
        if node.is_text_node:
            value = node.text_content
            if value:
                out.append(_WS_RE.sub(" ", value))
            continue
        tag = node.tag
        if not isinstance(tag, str) or tag.startswith(("-", "!")):
            continue
        if tag == "br":
            out.append("\n")
            continue
        if tag in _BLOCK_TAGS:
            out.append("\n\u2022 " if tag == "li" else "\n")
            stack.append((node, True))
        elif tag in _CELL_TAGS:
            stack.append((node, True))
        children = list(node.iter(include_text=True))
        for child in reversed(children):
            stack.append((child, False))
    text = "".join(out)
    text = re.sub(r"(?: \| )+\n", "\n", text)  # trailing cell separators
    return re.sub(r"[ \t]*\n[\s]*", "\n", text)  # one line per block: blocks already end lines


def parse_html(data: bytes) -> tuple[str, str | None, date | None]:
    from selectolax.lexbor import LexborHTMLParser

    html = _decode_html(data)
    depth = html_nesting_depth(html)
    if depth > HTML_MAX_DEPTH:
        raise ItemError(ErrorKind.INVALID_FORMAT, f"HTML nesting depth {depth:,} exceeds {HTML_MAX_DEPTH:,}")
    try:
        tree = LexborHTMLParser(html)
    except Exception as exc:
        raise ItemError(ErrorKind.INVALID_FORMAT, f"HTML could not be parsed: {reason(exc)}") from None
    title: str | None = None
    posted: date | None = None
    node = tree.css_first("title")
    if node is not None:
        title = short_title(node.text())
    if title is None:
        node = tree.css_first("h1")
        if node is not None:
            title = short_title(node.text(separator=" "))
    for selector in (
        'meta[name="posted-date"]',
        'meta[name="posted_date"]',
        'meta[itemprop="datePosted"]',
        'meta[property="article:published_time"]',
    ):
        node = tree.css_first(selector)
        if node is not None:
            posted = parse_iso_date(node.attributes.get("content"))
            if posted is not None:
                break
    tree.strip_tags(_DROP_TAGS)
    body = tree.body if tree.body is not None else tree.root
    text = _html_text(body) if body is not None else ""
    return text, title, posted
