#!/usr/bin/env bash
# `make wheel`: dist/cje_prep-<version>-py3-none-manylinux_2_<N>_<arch>.whl, the `make dist`
# bundle as a Python wheel, so `pip install` gives a `cje-prep` command and `python -m cje_prep`:
#   cje_prep/bundle/   the bundle as scripts/dist.sh made it (bin/cje-prep, lib/, VERSION, BUILD)
#   cje_prep/__main__.py   executes bundle/bin/cje-prep with the same arguments (the console
#                      script `cje-prep` and `python -m cje_prep` both come here)
# The platform tag is manylinux_2_<N>, N the newest glibc symbol version the bundle's ELF files
# ask for: pip installs it only where that glibc (or a newer one) is. Pure standard-library
# Python (zipfile, hashlib): no build backend to install.
# Usage: scripts/wheel.sh BUNDLE.tar.gz [out-dir]     (prints the wheel's path)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bundle=${1:?usage: scripts/wheel.sh BUNDLE.tar.gz [out-dir]}
out=${2:-$repo/dist}
mkdir -p "$out"
python3 - "$bundle" "$out" <<'PY'
import base64, hashlib, io, os, re, stat, sys, tarfile, zipfile

bundle, out = sys.argv[1], sys.argv[2]
members = {}
with tarfile.open(bundle) as tar:
    top = None
    for info in tar.getmembers():
        if not info.isfile():
            continue
        parts = info.name.split("/", 1)
        top = top or parts[0]
        members[parts[1]] = (tar.extractfile(info).read(), info.mode)
version = members["VERSION"][0].decode().strip()
arch = top.rsplit("-", 1)[1]
glibc = 17
for data, _ in members.values():
    if data[:4] == b"\x7fELF":
        for minor in re.findall(rb"GLIBC_2\.(\d+)", data):
            glibc = max(glibc, int(minor))
tag = f"py3-none-manylinux_2_{glibc}_{arch}"
name = f"cje_prep-{version}"
wheel = os.path.join(out, f"cje_prep-{version}-{tag}.whl")

files = {}
for path, (data, mode) in sorted(members.items()):
    files[f"cje_prep/bundle/{path}"] = (data, mode)
files["cje_prep/__init__.py"] = (
    f'"""cje-prep {version}: the make-dist bundle of the cje-prep command line, run by `cje-prep` or `python -m cje_prep`."""\n'
    f'__version__ = "{version}"\n'.encode(), 0o644)
files["cje_prep/__main__.py"] = (b'''"""Runs the bundled cje-prep with this process's arguments (it replaces the Python process)."""
import os
import sys


def main():
    binary = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bundle", "bin", "cje-prep")
    os.execv(binary, ["cje-prep"] + sys.argv[1:])


if __name__ == "__main__":
    main()
''', 0o644)
info = f"{name}.dist-info"
files[f"{info}/METADATA"] = (f"""Metadata-Version: 2.1
Name: cje-prep
Version: {version}
Summary: Prepare data sets for Causal Judge Evaluation with a deterministic llama.cpp engine
Requires-Python: >=3.8
License: see the project's repository

The cje-prep command line (a Swift binary with llama.cpp beside it) as a Python package:
`pip install cje-prep` gives the `cje-prep` command and `python -m cje_prep`.
""".encode(), 0o644)
files[f"{info}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: cje-prep scripts/wheel.sh\nRoot-Is-Purelib: false\nTag: {tag}\n".encode(), 0o644)
files[f"{info}/entry_points.txt"] = (b"[console_scripts]\ncje-prep = cje_prep.__main__:main\n", 0o644)
record = []
for path, (data, _) in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{path},sha256={digest},{len(data)}")
record.append(f"{info}/RECORD,,")
files[f"{info}/RECORD"] = (("\n".join(record) + "\n").encode(), 0o644)

part = wheel + ".part"
with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as z:
    for path, (data, mode) in files.items():
        entry = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
        entry.external_attr = ((stat.S_IFREG | (mode & 0o777)) << 16)
        entry.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(entry, data)
os.replace(part, wheel)
print(wheel)
PY
