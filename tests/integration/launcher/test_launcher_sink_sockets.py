"""The launcher's mail and SMS sinks take messages only on Unix sockets in an owner-only folder: on loopback
any account of the machine planted mail and SMS that looked like the mesh's, and one that took the SMTP port
while the sink restarted received the mesh's mail (an admin's password-reset link). The notifications
service's clients send there; the loopback ports serve only the pages, behind the password."""

from __future__ import annotations

import shutil
import socket
import stat
import tempfile
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.notifications.data.email import SmtpSender, SmtpSettings
from services.notifications.data.sms import SmsSettings, TwilioStyleSender
from services.notifications.domain.delivery import RetryPolicy, Sent
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import Content, Notification
from services.support.launcher.processes import Supervisor
from services.support.launcher.sink_http import basic_authorization
from services.support.launcher.sink_receivers import DEV_SMS_ACCOUNT, DEV_SMS_TOKEN
from services.support.launcher.sink_servers import LocalSinks, SinkAddresses
from services.support.mesh.topology import free_ports

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


@pytest.fixture
def socket_sinks() -> Iterator[LocalSinks]:
    root = Path(tempfile.mkdtemp(prefix="athenaeum-sinks-"))  # 0700, and short enough for a socket's address
    ports = free_ports()
    addresses = SinkAddresses(next(ports), next(ports), next(ports), socket_dir=root / "run")
    (root / "run").mkdir(mode=0o700)
    with Supervisor(root / "logs") as supervisor:
        sinks = LocalSinks(root / "sinks", addresses, supervisor)
        sinks.start()
        yield sinks
    shutil.rmtree(root, ignore_errors=True)


def _notification(channel: Channel, address: str) -> Notification:
    return Notification.queue(
        recipient_id=uuid.uuid4(), channel=channel, address=address, kind=Kind.HOLD_READY,
        content=Content("Your hold is ready", "Dune waits for you", "", "hold_ready_email_en", 1, "en"),
        params={}, now=NOW, not_before=NOW, policy=RetryPolicy(), source_event_id=uuid.uuid4(),
    )  # fmt: skip


async def test_the_notifications_clients_send_through_the_sinks_sockets(socket_sinks: LocalSinks) -> None:
    a = socket_sinks.addresses
    assert a.smtp_socket is not None and a.sms_socket is not None
    assert {stat.S_IMODE(path.stat().st_mode) for path in (a.smtp_socket, a.sms_socket)} == {0o600}
    mail = SmtpSender(SmtpSettings(host="127.0.0.1", port=1, from_address="library@athenaeum.local",
                                   socket_path=str(a.smtp_socket)))  # fmt: skip
    sms = TwilioStyleSender(SmsSettings(base_url=a.sms_url, account_sid=DEV_SMS_ACCOUNT, auth_token=DEV_SMS_TOKEN,
                                        from_number="+15005550006", socket_path=str(a.sms_socket)))  # fmt: skip
    try:
        assert isinstance(await mail.send(_notification(Channel.EMAIL, "ada@example.org")), Sent)
        assert isinstance(await sms.send(_notification(Channel.SMS, "+15550001111")), Sent)
    finally:
        await mail.close()
        await sms.close()
    assert socket_sinks.client(LocalSinks.MAIL).count() == 1
    assert socket_sinks.client(LocalSinks.SMS).count() == 1


def test_no_one_may_send_to_the_sinks_over_loopback(socket_sinks: LocalSinks) -> None:
    a = socket_sinks.addresses
    with pytest.raises(ConnectionRefusedError):  # no SMTP on loopback: nothing to plant mail on, or to squat
        socket.create_connection(("127.0.0.1", a.smtp_port), timeout=2).close()
    planted = urllib.request.Request(
        f"{a.sms_url}/2010-04-01/Accounts/{DEV_SMS_ACCOUNT}/Messages.json",
        data=b"To=%2B15550001111&From=Athenaeum&Body=Your+account+is+blocked",
        headers={"Authorization": basic_authorization(DEV_SMS_ACCOUNT, DEV_SMS_TOKEN)},  # the public default
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(planted, timeout=5)
    assert refused.value.code == 404
    assert socket_sinks.client(LocalSinks.SMS).count() == 0
    assert socket_sinks.client(LocalSinks.MAIL).count() == 0
