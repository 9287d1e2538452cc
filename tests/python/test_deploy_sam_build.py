"""`sam build` works offline: SAM CLI's rust-cargolambda builder runs
cargo-lambda (from PyPI, with zig) for every function template.yaml declares
and this tree has, and produces stripped arm64 bootstraps that need no newer
glibc than provided.al2023 has, each within its size target.

The size targets are the benchmark's (bench/report.py, `TARGETS`), the same
numbers the README's "Performance" section states; a test checks that the
README says exactly those, so the budget here cannot drift from them.

It runs `sam build <LogicalId>` per function on the real template. Slow
(release builds with LTO): set VERIFY_SKIP_SAM_BUILD=1 to skip it locally (in
CI, where CI=true, a skip fails). Builds go to the workspace target/
(cargo-lambda's usual place), so a kept target/ makes later runs incremental.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from ci_skips import in_ci
from deploy_support import ROOT, TEMPLATE, load_template, present_functions, target_dir, tool, tool_env

FUNCTIONS = present_functions(load_template())
MB = 1_000_000
# provided.al2023 ships glibc 2.34.
MAX_GLIBC = (2, 34)
AARCH64, X86_64 = 183, 62

pytestmark = pytest.mark.skipif(os.environ.get("VERIFY_SKIP_SAM_BUILD") == "1", reason="VERIFY_SKIP_SAM_BUILD=1")


def bench_targets() -> dict:
    """`TARGETS` of bench/report.py: the one place the targets are written."""
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "bench" / "report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TARGETS


SIZE_BUDGET_MB: dict[str, float] = bench_targets()["size_mb"]


def readme_size_budgets() -> dict[str, float]:
    """The size targets the README's "Performance" section states, from its
    targets table (`| start-verify bootstrap (arm64, stripped) ≤ 6 MB | …`)."""
    text = (ROOT / "README.md").read_text()
    perf = text[text.index("\n## Performance"):]
    perf = perf[: perf.index("\n## ", 1)]
    rows = re.findall(r"^\| (\S+) bootstrap \(arm64, stripped\) ≤ ([0-9.]+) MB \|", perf, re.M)
    return {name: float(mb) for name, mb in rows}


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
        # cannot (and in CI that already failed setup). Locally, build what
        # is possible offline: the same template for x86_64 (checked below
        # by architecture), and say so.
        if in_ci():
            pytest.fail("aarch64-unknown-linux-gnu is not installed: CI must build for arm64 (tests/setup.sh)")
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


def test_bootstraps_are_stripped_and_run_on_al2023(built):
    for name, path in built.items():
        data = path.read_bytes()
        assert b"\x00.symtab\x00" not in data, f"{name}: not stripped"
        glibc = max((tuple(map(int, v)) for v in re.findall(rb"GLIBC_(\d+)\.(\d+)", data)), default=(0, 0))
        assert glibc <= MAX_GLIBC, f"{name} needs glibc {glibc}, provided.al2023 has {MAX_GLIBC}"
        # What Lambda receives: a zip with the bootstrap.
        z = path.parent / "bootstrap.zip.test"
        with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            zf.write(path, "bootstrap")
        print(f"{name}: {len(data) / MB:.2f} MB stripped, {z.stat().st_size / MB:.2f} MB zipped, needs glibc {glibc[0]}.{glibc[1]}")
        z.unlink()


# --- Size: the README's targets, one test per function ----------------------


def test_size_budgets_are_the_ones_the_readme_states():
    assert readme_size_budgets() == SIZE_BUDGET_MB, (
        "README.md (Performance, targets table) and bench/report.py TARGETS disagree; "
        "run bash bench/run.sh and copy its table"
    )
    assert {f.binary for f in FUNCTIONS} <= set(SIZE_BUDGET_MB), "a function without a size target"


@pytest.mark.parametrize("name", sorted(SIZE_BUDGET_MB))
def test_bootstrap_is_within_its_readme_size_target(built, name):
    """A failure here is a target not met (README, "Performance"), not a
    flake: meet it or change the target in bench/report.py and the README."""
    if name not in built:
        pytest.skip(f"{name} is not in this tree")
    size = built[name].stat().st_size
    budget = SIZE_BUDGET_MB[name] * MB
    assert size <= budget, f"{name}: {size / MB:.2f} MB stripped > its {SIZE_BUDGET_MB[name]:g} MB target"
