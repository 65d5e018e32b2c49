"""The sink processes as the launcher runs them (the test session's): their pages and JSON answer no account
that does not sign in with the password kept, for the owner only, in their folder."""

from __future__ import annotations

import stat
import urllib.error
import urllib.request

import pytest

from services.support.launcher.sink_servers import LocalSinks, password_file

pytestmark = pytest.mark.integration


def test_the_sinks_answer_only_with_the_password_they_keep(sinks: LocalSinks) -> None:
    mail, sms = sinks.addresses.mail_url, sinks.addresses.sms_url
    for url in (f"{mail}/", f"{mail}/messages", f"{mail}/messages/1", f"{sms}/", f"{sms}/messages"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=5)
        assert refused.value.code == 401, url
    assert isinstance(sinks.client(LocalSinks.MAIL).messages(), list)
    assert isinstance(sinks.client(LocalSinks.SMS).messages(), list)
    assert stat.S_IMODE(password_file(sinks.store_dir).stat().st_mode) == 0o600
