"""`sam build` works offline: SAM CLI's rust-cargolambda builder runs
cargo-lambda (from PyPI, with zig) for every function template.yaml declares
and this tree has, and produces stripped arm64 bootstraps within the size budget that need no
newer glibc than provided.al2023 has.

It runs `sam build <LogicalId>` per function on the real template, so a
function that is declared but not yet in the tree (webhook-report before its
merge) is simply not built, and is built as soon as it exists.

Slow (release builds with LTO): set VERIFY_SKIP_SAM_BUILD=1 to skip it
locally. Builds go to the workspace target/ (cargo-lambda's usual place), so
a kept target/ makes later runs incremental.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from deploy_support import ROOT, TEMPLATE, load_template, present_functions, target_dir, tool, tool_env

FUNCTIONS = present_functions(load_template())
MB = 1_000_000
# A regression budget for every stripped bootstrap, not the targets
# (start-verify and check-verify ≤ 6 MB, webhook-report ≤ 3 MB): those are
# measured and reported by bench/run.sh (README, "Performance"); today the
# HTTP functions are ~7.4 MB on arm64, so the targets are not met. The budget
# leaves room for the code still to be merged (API routes, webhooks).
MAX_BYTES = 8_500_000
# provided.al2023 ships glibc 2.34.
MAX_GLIBC = (2, 34)
AARCH64, X86_64 = 183, 62

pytestmark = pytest.mark.skipif(os.environ.get("VERIFY_SKIP_SAM_BUILD") == "1", reason="VERIFY_SKIP_SAM_BUILD=1")


def aarch64_std_installed() -> bool:
    out = subprocess.run(["rustup", "target", "list", "--installed"], capture_output=True, text=True)
    return "aarch64-unknown-linux-gnu" in out.stdout


def elf_machine(data: bytes) -> int:
    assert data[:4] == b"\x7fELF", "not an ELF file"
    return int.from_bytes(data[18:20], "little")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    if not FUNCTIONS:
        pytest.fail("template.yaml declares no function present in this tree")
    template = TEMPLATE
    if not aarch64_std_installed():
        # tests/setup.sh installs the target with rustup; without network it
        # cannot. Then build what is possible offline: the same template for
        # x86_64 (checked below by architecture), and say so.
        template = tmp_path_factory.mktemp("x86") / "template.yaml"
        text = TEMPLATE.read_text().replace("Architectures: [arm64]", "Architectures: [x86_64]")
        text = re.sub(r"CodeUri: (functions/\S+)", lambda m: f"CodeUri: {ROOT / m.group(1)}", text)
        template.write_text(text)
        print("aarch64-unknown-linux-gnu is not installed: sam build ran for x86_64 instead")
    out_dir = target_dir() / "sam-build"
    bootstraps = {}
    log = target_dir() / "test-logs" / "sam-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as f:
        for fn in FUNCTIONS:
            build_dir = out_dir / fn.logical_id
            started = time.monotonic()
            proc = subprocess.run(
                [tool("sam"), "build", fn.logical_id, "--template-file", str(template), "--build-dir", str(build_dir)],
                cwd=ROOT, env=tool_env(), capture_output=True, text=True, timeout=3600,
            )
            f.write(f"== sam build {fn.logical_id}: rc {proc.returncode} in {time.monotonic() - started:.0f} s\n")
            f.write(proc.stdout + proc.stderr)
            assert proc.returncode == 0, f"sam build {fn.logical_id} failed:\n{proc.stdout}{proc.stderr}"
            bootstraps[fn.binary] = build_dir / fn.logical_id / "bootstrap"
    return bootstraps


def test_sam_build_produces_an_arm64_bootstrap_per_function(built):
    want = AARCH64 if aarch64_std_installed() else X86_64
    for name, path in built.items():
        assert path.exists(), f"{name}: no bootstrap at {path}"
        assert os.access(path, os.X_OK), f"{name}: bootstrap is not executable"
        assert elf_machine(path.read_bytes()) == want, f"{name}: wrong architecture"
    if want != AARCH64:
        pytest.xfail("built for x86_64: the aarch64 standard library could not be installed here")


def test_bootstraps_are_stripped_small_and_run_on_al2023(built):
    for name, path in built.items():
        data = path.read_bytes()
        assert b"\x00.symtab\x00" not in data, f"{name}: not stripped"
        assert len(data) <= MAX_BYTES, f"{name}: {len(data) / MB:.2f} MB > the {MAX_BYTES / MB:g} MB budget"
        glibc = max((tuple(map(int, v)) for v in re.findall(rb"GLIBC_(\d+)\.(\d+)", data)), default=(0, 0))
        assert glibc <= MAX_GLIBC, f"{name} needs glibc {glibc}, provided.al2023 has {MAX_GLIBC}"
        # What Lambda receives: a zip with the bootstrap.
        z = path.parent / "bootstrap.zip.test"
        with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            zf.write(path, "bootstrap")
        print(f"{name}: {len(data) / MB:.2f} MB stripped, {z.stat().st_size / MB:.2f} MB zipped, needs glibc {glibc[0]}.{glibc[1]}")
        z.unlink()
