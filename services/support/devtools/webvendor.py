"""The web client's third-party modules, vendored from npm byte for byte (no build step).

web/vendor/vendor.json pins each package (version and the registry's integrity hash of its tarball) and
names the files taken from it with their SHA-256. `python -m services.support.devtools.webvendor` fetches
the pinned tarballs with `npm pack` (which checks them against the registry), refuses one whose integrity
differs from the pin, and rewrites the vendored files; `--check` only compares. A unit test checks the
committed files against the recorded hashes without the network.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parents[3] / "web" / "vendor"
MANIFEST = "vendor.json"


@dataclass(frozen=True)
class VendoredFile:
    source: str
    """Path inside the package tarball (below `package/`)."""
    target: str
    """File name in web/vendor/."""
    sha256: str


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str
    """The registry's Subresource-Integrity hash of the tarball (what `npm pack --json` reports)."""
    files: tuple[VendoredFile, ...]


def load_manifest(vendor_dir: Path = VENDOR_DIR) -> list[Package]:
    """The pinned packages and the files taken from each."""
    raw = json.loads((vendor_dir / MANIFEST).read_text(encoding="utf-8"))
    return [
        Package(
            name=name,
            version=entry["version"],
            integrity=entry["integrity"],
            files=tuple(VendoredFile(f["from"], f["to"], f["sha256"]) for f in entry["files"]),
        )
        for name, entry in raw["packages"].items()
    ]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mismatches(vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """Vendored files missing or different from the hashes the manifest recorded (offline)."""
    problems = []
    for package in load_manifest(vendor_dir):
        for file in package.files:
            path = vendor_dir / file.target
            if not path.is_file():
                problems.append(f"{file.target}: missing ({package.name}@{package.version})")
            elif sha256_of(path) != file.sha256:
                problems.append(f"{file.target}: differs from {package.name}@{package.version}/{file.source}")
    return problems


def _fetch(package: Package, into: Path) -> Path:
    """`npm pack` the pinned version into `into`; returns the unpacked `package/` folder."""
    result = subprocess.run(
        ["npm", "pack", f"{package.name}@{package.version}", "--json", "--pack-destination", str(into)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    (packed,) = json.loads(result.stdout)
    if packed["integrity"] != package.integrity:
        raise SystemExit(f"{package.name}@{package.version}: the registry's tarball is not the pinned one")
    with tarfile.open(into / packed["filename"]) as tarball:
        tarball.extractall(into / package.name, filter="data")
    return into / package.name / "package"


def vendor(vendor_dir: Path = VENDOR_DIR, *, check: bool = False) -> list[str]:
    """Fetch every pinned package; write (or, with `check`, compare) its files. Returns the differences."""
    differences = []
    with tempfile.TemporaryDirectory(prefix="athenaeum-vendor-") as scratch:
        for package in load_manifest(vendor_dir):
            unpacked = _fetch(package, Path(scratch))
            for file in package.files:
                fetched = unpacked / file.source
                if sha256_of(fetched) != file.sha256:
                    differences.append(f"{file.target}: npm serves other bytes than the manifest records")
                target = vendor_dir / file.target
                if not target.is_file() or target.read_bytes() != fetched.read_bytes():
                    differences.append(f"{file.target}: not what {package.name}@{package.version} ships")
                    if not check:
                        shutil.copyfile(fetched, target)
    return differences


def main(argv: list[str] | None = None) -> int:
    """Re-vendor the pinned npm files into web/vendor (or only check them)."""
    parser = argparse.ArgumentParser(prog="python -m services.support.devtools.webvendor", description=main.__doc__)
    parser.add_argument("--check", action="store_true", help="compare with npm, change nothing")
    args = parser.parse_args(argv)
    differences = vendor(check=args.check)
    for line in differences:
        print(line)
    return 1 if args.check and differences else 0


if __name__ == "__main__":
    raise SystemExit(main())
