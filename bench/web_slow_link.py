"""How long a reader on a slow mobile link waits for the web client: the first words on screen, the page's
heading, the catalogue's first results, for a first visit and a second one (a new tab of the same browser
profile, its cache warm), and how many requests each made and how many bytes came over the wire.

    python bench/web_slow_link.py [--runs 3] [--latency-ms 400] [--kbit 400]

Chromium (Debian's) at 390x844 with touch, throttled through CDP's Network.emulateNetworkConditions, against a
mesh of its own with 200 demo titles. Appends one JSON line per run to bench/results/web_slow_link.jsonl (or
the folder ATHENAEUM_BENCH_RESULTS names) and prints the medians.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "gen" / "python")]
sys.path.insert(0, str(REPO_ROOT / "bench"))

from loadtools import RESULTS_DIR  # noqa: E402
from mesh_setup import load_demo, start_mesh  # noqa: E402
from playwright.sync_api import BrowserContext, sync_playwright  # noqa: E402

RESULTS = RESULTS_DIR / "web_slow_link.jsonl"
MARKS = {
    "first_words": "() => (document.body?.innerText || '').trim().length > 0",
    "heading": "() => Boolean(document.querySelector('main h1'))",
    "results": "() => Boolean(document.querySelector(\"main a[href^='#/books/']\"))",
}


def visit(context: BrowserContext, url: str, latency_ms: int, kbit: int) -> dict[str, Any]:
    """One visit in a new tab: seconds from the navigation to each mark, requests, statuses and bytes."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    rate = kbit * 1024 / 8
    conditions = {"offline": False, "latency": latency_ms, "downloadThroughput": rate, "uploadThroughput": rate}
    cdp.send("Network.emulateNetworkConditions", conditions)
    wire: list[float] = []
    cdp.on("Network.loadingFinished", lambda event: wire.append(event["encodedDataLength"]))
    statuses: list[int] = []  # as they came over the wire (the page sees a revalidated copy as 200)
    cdp.on("Network.responseReceivedExtraInfo", lambda event: statuses.append(event["statusCode"]))
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    marks: dict[str, float] = {}
    while len(marks) < len(MARKS) and time.perf_counter() - started < 60:
        for name, check in MARKS.items():
            if name not in marks and page.evaluate(check):
                marks[name] = round(time.perf_counter() - started, 2)
        time.sleep(0.05)
    page.wait_for_load_state("networkidle")
    page.close()
    return {**marks, "requests": len(statuses), "not_modified": statuses.count(304), "kB": round(sum(wire) / 1000, 1)}


def run_once(url: str, latency_ms: int, kbit: int) -> dict[str, Any]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
            first = visit(context, url, latency_ms, kbit)
            second = visit(context, url, latency_ms, kbit)
        finally:
            browser.close()
    return {"first": first, "second": second}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=400)
    parser.add_argument("--kbit", type=int, default=400)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="athenaeum-bench-web-"))
    data_dir.chmod(0o755)  # Postgres runs as another account under root
    mesh = start_mesh(data_dir)
    try:
        load_demo(mesh.edge_grpc_target, 200)  # type: ignore[attr-defined]
        url = f"{mesh.edge_url}/"  # type: ignore[attr-defined]
        runs = [run_once(url, args.latency_ms, args.kbit) for _ in range(args.runs)]
    finally:
        mesh.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as out:
        for run in runs:
            link = {"latency_ms": args.latency_ms, "kbit": args.kbit}
            out.write(json.dumps({"at": datetime.now(UTC).isoformat(), **link, **run}) + "\n")
    print("| visit | first words s | heading s | results s | requests | 304 | kB |\n|---|---|---|---|---|---|---|")
    for visit_name in ("first", "second"):
        rows = [run[visit_name] for run in runs]
        keys = ("first_words", "heading", "results", "requests", "not_modified", "kB")
        cells = [str(statistics.median(row.get(key, float("nan")) for row in rows)) for key in keys]
        print(f"| {visit_name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
