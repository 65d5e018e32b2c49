"""The compose project's stand-ins for the outside world: Mailpit for the mail server and the project's own
SMS sink for the SMS provider, for compose.py.

Their own module because they are no part of Athenaeum: a deployment points the services' ATHENAEUM_SMTP_* and
ATHENAEUM_SMS_* settings at real ones and drops these.
"""

from __future__ import annotations

from typing import Any

from services.support.mesh.compose_common import athenaeum_image, healthcheck
from services.support.mesh.compose_secrets import SECRETS_MOUNT, secret_name

MAILPIT_IMAGE = "axllent/mailpit:v1.27"


def outside_world_services() -> dict[str, Any]:
    """Stand-ins for the mail server and the SMS provider: Mailpit (its web page shows every message) and
    the project's own Twilio-style SMS sink. Point ATHENAEUM_SMTP_* / ATHENAEUM_SMS_* elsewhere for real ones."""
    token = secret_name("ATHENAEUM_SMS_AUTH_TOKEN")
    sink = ["python", "-m", "services.support.launcher.sinks", "sms", "--host", "0.0.0.0", "--port", "2580"]
    return {
        "mailpit": {
            "image": MAILPIT_IMAGE,
            "ports": ["${MAILPIT_UI_PORT:-127.0.0.1:8025}:8025"],
            "healthcheck": healthcheck(["CMD", "/mailpit", "readyz"]),
            "restart": "unless-stopped",
        },
        "sms-sink": {
            **athenaeum_image(),
            "command": [*sink, "--store", "/tmp/sms", "--token-file", str(SECRETS_MOUNT / token)],
            "secrets": [token],
            "ports": ["${SMS_SINK_PORT:-127.0.0.1:2580}:2580"],
            "healthcheck": healthcheck(
                ["CMD", "python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:2580/stats')"]
            ),
            "restart": "unless-stopped",
        },
    }
