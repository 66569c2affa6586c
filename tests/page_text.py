"""The text a person reads on a page: text nodes (not scripts or styles), the attributes
browsers show or read aloud; for the translation check also the messages scripts show from
``data-*`` attributes, without code samples (commands and tokens are literal)."""

from html.parser import HTMLParser

SHOWN_ATTRIBUTES = {"title", "aria-label", "alt", "placeholder"}
LITERAL = {"code", "kbd", "samp"}


class _VisibleText(HTMLParser):
    def __init__(self, for_translation: bool) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0
        self._messages = for_translation

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._hides(tag):
            self._hidden += 1
        self.parts.extend(v for k, v in attrs if k in SHOWN_ATTRIBUTES and v)
        if self._messages:
            # Words scripts show (the offline queue's messages...): data-* values with a space.
            self.parts.extend(v for k, v in attrs if k.startswith("data-") and v and " " in v)
            kind = dict(attrs).get("type")
            if tag == "input" and kind in ("submit", "button"):
                self.parts.extend(v for k, v in attrs if k == "value" and v)

    def _hides(self, tag: str) -> bool:
        if self._messages:  # a <template>'s words are shown by scripts later
            return tag in ("script", "style") or tag in LITERAL
        return tag in ("script", "style", "template")

    def handle_endtag(self, tag: str) -> None:
        if self._hides(tag):
            self._hidden = max(0, self._hidden - 1)

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str, *, for_translation: bool = False) -> str:
    parser = _VisibleText(for_translation)
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())
