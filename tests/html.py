"""Read a page as a browser would: its text (entities decoded) and its elements, not its markup.

Tests assert on what a person sees (`text_of`) and on what runs (`scripts_of`), so that they do not
depend on how Django happens to escape a character.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.values: list[str] = []
        self.links: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False
        # Disabled buttons: [label, the reason they point at (aria-describedby)]
        self.disabled: list[list[str]] = []
        self._descriptions: dict[str, str] = {}
        self._in_disabled = False
        self._in_description: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        named = dict(attrs)
        if tag == "button" and "disabled" in named:
            self.disabled.append(["", named.get("aria-describedby") or ""])
            self._in_disabled = True
        if named.get("id", "") and str(named["id"]).startswith("why-disabled-"):
            self._in_description = str(named["id"])
            self._descriptions[self._in_description] = ""
        if tag == "script":
            self.scripts.append("")
        for name, value in attrs:
            if name == "value" and value is not None:
                self.values.append(value)
            if name == "href" and value is not None:
                self.links.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        if tag == "button":
            self._in_disabled = False
        if tag == "span":
            self._in_description = None

    def handle_data(self, data: str) -> None:
        if self._in_disabled:
            self.disabled[-1][0] += data
        if self._in_description:
            self._descriptions[self._in_description] += data
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)


def _parse(page: Any) -> _Page:
    html = page.content.decode() if hasattr(page, "content") else str(page)
    parser = _Page()
    parser.feed(html)
    parser.close()
    return parser


def text_of(page: Any) -> str:
    """The page's text as read (textarea contents included): entities decoded, and every run of
    whitespace one space, as a browser lays it out."""
    return " ".join("".join(_parse(page).text).split())


def values_of(page: Any) -> list[str]:
    """Every `value` attribute of the page (inputs), decoded."""
    return _parse(page).values


def scripts_of(page: Any) -> list[str]:
    """The text of every <script> element: what the browser would run."""
    return _parse(page).scripts


def links_of(page: Any) -> list[str]:
    """Every `href` of the page, decoded (`&amp;` read as `&`)."""
    return _parse(page).links


def disabled_of(page: Any) -> dict[str, str]:
    """Each disabled button's label, and the reason its accessible description gives."""
    parsed = _parse(page)
    return {
        " ".join(label.split()): parsed._descriptions.get(described, "")
        for label, described in parsed.disabled
    }
