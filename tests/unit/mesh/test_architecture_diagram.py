"""The README's architecture chart is the registry's: an operator writing NetworkPolicies or firewall rules
from it, or working out what breaks when users is down, sees every call and every stream the mesh allows."""

from __future__ import annotations

from pathlib import Path

from services.support.mesh.diagram import architecture_mermaid

README = Path(__file__).resolve().parents[3] / "README.md"


def _readme_chart() -> str:
    text = README.read_text()
    start = text.index("```mermaid\n") + len("```mermaid\n")
    return text[start : text.index("```", start)]


def test_the_readme_chart_is_the_one_drawn_from_the_registry() -> None:
    assert _readme_chart() == architecture_mermaid(), "paste `python -m services.support.mesh.diagram` into README"


def test_the_chart_shows_notifications_calling_users_and_catalog_and_every_stream() -> None:
    chart = architecture_mermaid()
    assert "napp -.->|via its sidecar's outbound listener| usc & csc" in chart
    assert "uapp & capp & lapp & napp -->|outbox relay" in chart  # notifications publishes what events reads
    assert "js -->|the contexts' events each reads| capp & lapp & napp & eapp" in chart
