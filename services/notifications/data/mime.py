"""A notification as the bytes of an email: multipart/alternative (text and HTML), each part UTF-8 in base64.

Written out directly rather than through the email package's generator: every message has the same shape,
and the generator folded each of its ~14 headers through a Header object, ~0.5 ms a message, a fifth of the
service's CPU in a burst (bench/README.md). The email package still encodes the sender's name and the date;
the subject's encoded-words are made here (see `subject`). Tests read the result back with the
email package's own parser.
"""

from __future__ import annotations

import base64
import re
from email.utils import format_datetime, formataddr

from services.notifications.domain.kinds import KINDS
from services.notifications.domain.notifications import Notification

CRLF = b"\r\n"
_LINE_BREAKS = re.compile(r"[\r\n]+\s*")
_PLAIN_HEADER_MAX = 69
"""A plain ASCII subject up to this long fits one line with its name (78 characters)."""
_WORD_BYTES = 42
"""Bytes of UTF-8 in one encoded-word: 56 characters of base64, 68 with its markers."""


class MimeWriter:
    def __init__(self, *, from_address: str, from_name: str, domain: str, preferences_url: str = "") -> None:
        self._from = formataddr((one_line(from_name), from_address))  # encoded once: it never changes
        self._domain = domain
        self._unsubscribe = f"<{one_line(preferences_url)}>" if preferences_url else ""

    def message_id(self, n: Notification) -> str:
        """The same on every try: a receiving system can drop a copy sent again after a crash."""
        return f"<{n.id}@{self._domain}>"

    def message(self, n: Notification) -> bytes:
        headers = [
            ("From", self._from),
            ("To", one_line(n.address)),
            ("Subject", subject(n.content.subject)),
            ("Date", format_datetime(n.created_at)),
            ("Message-ID", self.message_id(n)),
            ("MIME-Version", "1.0"),
            ("X-Athenaeum-Notification", n.name),
            ("X-Athenaeum-Kind", n.kind.value),
            # RFC 3834: machine-made mail; vacation responders do not answer it, auto-forwarders do not loop.
            ("Auto-Submitted", "auto-generated"),
        ]
        if self._unsubscribe and KINDS[n.kind].announcement:
            # Subscribed mail (a followed author's new books): where to stop it, the reader's preferences page.
            # No List-Unsubscribe-Post: RFC 8058's one-click needs an unsubscribe that works from a POST with no
            # sign-in, which the service does not offer; the link opens the page after signing in.
            headers.append(("List-Unsubscribe", self._unsubscribe))
        if n.source_event_id is not None:
            headers.append(("X-Athenaeum-Event-Id", str(n.source_event_id)))
        text = _part("plain", n.content.text)
        if not n.content.html:
            return _lines(headers) + text
        # Base64 never holds "=_", so no part can contain the boundary; the notification's id makes it unique.
        boundary = f"=_{n.id.hex}".encode()
        headers.append(("Content-Type", f'multipart/alternative; boundary="{boundary.decode()}"'))
        html = _part("html", n.content.html)
        delimiter = b"--" + boundary
        return _lines(headers) + CRLF + delimiter + CRLF + text + delimiter + CRLF + html + delimiter + b"--" + CRLF


def one_line(value: str) -> str:
    """A header value on one line: a line break in it would start a header of the sender's choosing."""
    return _LINE_BREAKS.sub(" ", value).strip()


def subject(value: str) -> str:
    """The subject as it is when short and ASCII, else as RFC 2047 encoded-words (base64 of UTF-8), one per
    line: each at most 68 characters, so "Subject: " and the first fit in 78. The email package's Header
    chose between two encodings for every subject, several times the cost of the rest of a message."""
    value = one_line(value)
    if value.isascii() and len(value) <= _PLAIN_HEADER_MAX:
        return value
    data, words = value.encode(), []
    while data:
        cut = min(len(data), _WORD_BYTES)
        while cut < len(data) and data[cut] & 0xC0 == 0x80:  # never inside a character (RFC 2047, 5)
            cut -= 1
        words.append(f"=?utf-8?b?{base64.b64encode(data[:cut]).decode()}?=")
        data = data[cut:]
    return "\r\n ".join(words)


def _part(kind: str, body: str) -> bytes:
    headers = [("Content-Type", f'text/{kind}; charset="utf-8"'), ("Content-Transfer-Encoding", "base64")]
    encoded = base64.encodebytes(body.encode()).replace(b"\n", CRLF)  # lines of 76 characters
    return _lines(headers) + CRLF + encoded


def _lines(headers: list[tuple[str, str]]) -> bytes:
    # ASCII but for an address with a non-ASCII local part, which goes as UTF-8 (RFC 6532: it needs a server
    # with SMTPUTF8, which the SMTP client asks for such a recipient).
    return "".join(_folded(f"{name}: {value}") + "\r\n" for name, value in headers).encode()


def _folded(line: str, width: int = 78) -> str:
    """A header line broken at spaces into lines of at most `width` where it can be (RFC 5322 asks for 78;
    a line with no space to break at stays long, within the 998 it allows). One already folded is kept."""
    if len(line) <= width or "\r\n" in line:
        return line
    lines, current = [], ""
    for word in line.split(" "):
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = " " + word  # a line that starts with a space continues the header
        else:
            current = f"{current} {word}" if current else word
    return "\r\n".join([*lines, current])
