"""nats-py is loaded without aiohttp (its WebSocket transport, unused), and aiohttp still imports later."""

from __future__ import annotations

import subprocess
import sys


def _run(program: str) -> str:
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_a_service_importing_nats_does_not_load_aiohttp() -> None:
    program = "import services, nats, nats.js, sys; print('aiohttp' in sys.modules)"
    assert _run(program) == "False"


def test_without_the_hook_nats_would_load_aiohttp() -> None:
    # What the hook is for: a plain interpreter (the package `services` not imported) pulls aiohttp in.
    assert _run("import nats, sys; print('aiohttp' in sys.modules)") == "True"


def test_aiohttp_still_imports_for_the_services_that_use_it() -> None:
    program = (
        "import services, nats, sys, aiohttp.web, nats.aio.transport as t; print(t.aiohttp, aiohttp.web.Application)"
    )
    assert _run(program) == "None <class 'aiohttp.web_app.Application'>"
