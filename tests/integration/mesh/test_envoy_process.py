"""Starting and stopping an Envoy: ready means LIVE, a broken config fails fast, stop leaves nothing behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from services.support.launcher.envoy_process import EnvoyNotReady, start_envoy

pytestmark = pytest.mark.integration


def admin_only_config(path: Path, admin_port: int) -> Path:
    path.write_text(
        yaml.safe_dump({"admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin_port}}}})
    )
    return path


def test_envoy_is_live_when_started_and_gone_when_stopped(tmp_path: Path, free_port_source: Iterator[int]) -> None:
    admin_port = next(free_port_source)
    envoy = start_envoy(admin_only_config(tmp_path / "envoy.yaml", admin_port), admin_port=admin_port)
    with envoy:
        assert envoy.process.poll() is None
    assert envoy.process.poll() is not None


def test_a_broken_config_fails_fast_with_envoys_own_message(tmp_path: Path, free_port_source: Iterator[int]) -> None:
    config = tmp_path / "broken.yaml"
    config.write_text("no_such_field: 1\n")
    with pytest.raises(EnvoyNotReady, match="no_such_field"):
        start_envoy(config, admin_port=next(free_port_source), log_path=tmp_path / "envoy.log", ready_timeout=10)
