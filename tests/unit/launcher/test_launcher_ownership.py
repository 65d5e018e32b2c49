"""A data folder, or a secret in it, that another account made or may write to is refused, never used."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.support.launcher.credentials import kept_secret
from services.support.launcher.layout import local_mesh_topology
from services.support.launcher.ownership import NotOurs, private_folder
from services.support.mesh.topology import sequential_ports

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root can make files of another account")


def _topology(data_dir: Path):
    return local_mesh_topology(data_dir, ports=sequential_ports(7100), edge_port=8080, edge_admin_port=9901)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def planted(tmp_path: Path) -> Iterator[Path]:
    """A data folder as a hostile account lays it out before the operator's first `up`."""
    data_dir = tmp_path / "data"
    for folder in ("postgres", "nats", "certs", "run"):
        (data_dir / folder).mkdir(parents=True)
    (data_dir / "postgres" / "password").write_text("attackerpw")
    (data_dir / "nats" / "token").write_text("attackertoken")
    yield data_dir
    shutil.rmtree(data_dir, ignore_errors=True)


@as_root
def test_a_data_folder_another_account_made_is_refused_and_its_secrets_are_not_used(planted: Path) -> None:
    for path in (planted, *planted.rglob("*")):
        shutil.chown(path, "nobody")

    with pytest.raises(NotOurs, match=r"belongs to another account \(nobody\)"):
        _topology(planted)
    with pytest.raises(NotOurs, match="belongs to another account"):
        kept_secret(planted / "nats" / "token")
    assert (planted / "run").stat().st_uid != 0  # not adopted
    assert _mode(planted / "run") != 0o700


@as_root
def test_a_secret_or_a_folder_another_account_planted_in_our_data_folder_is_refused(planted: Path) -> None:
    shutil.chown(planted / "nats" / "token", "nobody")
    shutil.chown(planted / "certs", "nobody")

    with pytest.raises(NotOurs, match="certs belongs to another account"):
        _topology(planted)
    with pytest.raises(NotOurs, match="token belongs to another account"):
        kept_secret(planted / "nats" / "token")


def test_a_data_folder_or_a_secret_other_accounts_may_write_to_is_refused(planted: Path) -> None:
    planted.chmod(0o777)
    with pytest.raises(NotOurs, match="may be written by other accounts"):
        _topology(planted)
    planted.chmod(0o755)
    (planted / "postgres" / "password").chmod(0o666)
    with pytest.raises(NotOurs, match="may be written by other accounts"):
        kept_secret(planted / "postgres" / "password")
    (planted / "nats").chmod(0o777)
    with pytest.raises(NotOurs, match="nats may be written by other accounts"):
        kept_secret(planted / "nats" / "token")


def test_a_fresh_data_folder_and_its_secrets_are_made_for_their_owner_only_whatever_the_umask(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    umask = os.umask(0o002)  # a user-private-group umask: group-writable unless told otherwise
    try:
        _topology(data_dir)
        kept_secret(data_dir / "nats" / "token")
        kept_secret(data_dir / "postgres" / "password")
        private_folder(data_dir / "certs")
    finally:
        os.umask(umask)

    assert _mode(data_dir) == 0o755
    assert [_mode(data_dir / name) for name in ("run", "nats", "postgres", "certs")] == [0o700] * 4
    assert _mode(data_dir / "nats" / "token") == _mode(data_dir / "postgres" / "password") == 0o600
    _topology(data_dir)  # and the next `up` takes it
