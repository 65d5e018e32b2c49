"""What a person (and the tests) read from the local sinks: header fields of a kept email, its text and HTML
bodies, and the sinks' small web pages. The mail sink keeps each message as received and reads it here only
when asked, so a burst of mail costs no MIME parsing."""

from __future__ import annotations

import html
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from typing import Any


def header_fields(raw: bytes) -> dict[str, str]:
    """The header section of a message as name -> value, unfolded but not decoded (cheap: no MIME parsing)."""
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        end = raw.find(b"\n\n")
    head = raw[:end] if end >= 0 else raw
    fields: dict[str, str] = {}
    name = ""
    for line in head.decode("utf-8", errors="replace").splitlines():
        if line[:1] in (" ", "\t"):
            if name:
                fields[name] += " " + line.strip()
            continue
        name, _, value = line.partition(":")
        name = name.strip()
        fields[name] = value.strip()
    return fields


def field(fields: dict[str, str], name: str) -> str:
    """A header field's raw value by name in any case ("" when absent)."""
    wanted = name.lower()
    return next((value for key, value in fields.items() if key.lower() == wanted), "")


def decoded_headers(item: dict[str, Any]) -> dict[str, str]:
    """A kept email's header fields as a reader sees them (RFC 2047 encoded words decoded)."""
    return {name: _decoded(value) for name, value in item.get("headers", {}).items()}


def _decoded(value: str) -> str:
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError):  # a malformed encoded word: show it as it came
        return value


def message_parts(item: dict[str, Any]) -> tuple[str, str]:
    """(text, html) bodies of a stored message."""
    message = message_from_bytes(item["raw"].encode("utf-8"), policy=policy.default)
    text = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    return (text.get_content() if text else ""), (rich.get_content() if rich else "")


def mail_page(items: list[dict[str, Any]]) -> str:
    rows = []
    for m in reversed(items[-500:]):
        headers = decoded_headers(m)
        rows.append(
            f"<tr><td><a href='/messages/{m['n']}'>{m['n']}</a></td><td>{html.escape(headers.get('Date', ''))}</td>"
            f"<td>{html.escape(', '.join(m['rcpt_tos']))}</td><td>{html.escape(headers.get('Subject', ''))}</td></tr>"
        )
    return page(
        f"Mail sink: {len(items)} messages",
        f"<table><tr><th>#</th><th>date</th><th>to</th><th>subject</th></tr>{''.join(rows)}</table>",
    )


def message_page(item: dict[str, Any]) -> str:
    text, rich = message_parts(item)
    headers = decoded_headers(item)
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in headers.items())
    frame = f"<iframe sandbox srcdoc='{html.escape(rich, quote=True)}' style='width:100%;height:20em'></iframe>"
    return page(
        headers.get("Subject", "(no subject)"),
        f"<table>{cells}</table><h2>Text</h2><pre>{html.escape(text)}</pre><h2>HTML</h2>{frame if rich else ''}",
    )


def sms_page(items: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{m['n']}</td><td>{html.escape(m['to'])}</td><td>{html.escape(m['body'])}</td></tr>"
        for m in reversed(items[-500:])
    )
    return page(f"SMS sink: {len(items)} messages", f"<table><tr><th>#</th><th>to</th><th>text</th></tr>{rows}</table>")


def page(title: str, body: str) -> str:
    style = "body{font-family:sans-serif;margin:2em}td,th{padding:.2em .6em;text-align:left;vertical-align:top}"
    head = f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title><style>{style}</style>"
    return f"{head}<h1>{html.escape(title)}</h1>{body}"
