"""CI allows no skip: the same skipping tests run in a child pytest with the
ci_skips plugin, once as a developer runs them and once as CI does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

SKIPPING = '''
import os
import pytest

def test_runs():
    pass

def test_skips():
    pytest.skip("a tool is missing")

@pytest.mark.skipif(True, reason="a variable is unset")
def test_skipif():
    pass

def test_xfails():
    pytest.xfail("built for the wrong architecture")
'''

MODULE_SKIP = '''
import pytest
pytest.skip("the whole suite is missing", allow_module_level=True)

def test_never_collected():
    pass
'''


def run_child(tmp_path: Path, ci: str | None, source: str = SKIPPING) -> subprocess.CompletedProcess:
    (tmp_path / "test_child.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = str(HERE)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "ci_skips", "-p", "no:cacheprovider", "-rA", "-q", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )


def test_locally_skips_stay_skips(tmp_path):
    out = run_child(tmp_path, None)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.splitlines()[-1].startswith("1 passed, 2 skipped, 1 xfailed"), out.stdout
    out = run_child(tmp_path, None, MODULE_SKIP)
    assert out.returncode in (0, 5) and "1 skipped" in out.stdout, out.stdout + out.stderr  # 5: no test ran


@pytest.mark.parametrize("ci", ["true", "1"])
def test_in_ci_every_skip_fails_with_its_reason(tmp_path, ci):
    out = run_child(tmp_path, ci)
    assert out.returncode == 1, out.stdout + out.stderr
    assert out.stdout.splitlines()[-1].startswith("2 failed, 1 passed, 1 error"), out.stdout
    for reason in ("a tool is missing", "a variable is unset", "built for the wrong architecture"):
        assert reason in out.stdout, f"{reason!r} not reported:\n{out.stdout}"


def test_in_ci_a_module_skipped_at_collection_fails(tmp_path):
    out = run_child(tmp_path, "true", MODULE_SKIP)
    assert out.returncode != 0, out.stdout + out.stderr
    assert "the whole suite is missing" in out.stdout and "1 error" in out.stdout, out.stdout


# --- The shell side: tests/ci.sh, used by run.sh (suites whose files are
# missing) and setup.sh (the arm64 target that cannot be installed).

ROOT = HERE.parents[1]


def shell(script: str, ci: str | None, path_prefix: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    if path_prefix is not None:
        env["PATH"] = f"{path_prefix}{os.pathsep}{env['PATH']}"
    return subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_a_missing_suite_is_a_warning_locally_and_an_error_in_ci():
    script = 'set -euo pipefail; . tests/ci.sh; missing "no Node tests in tests/node"; echo went-on'
    local = shell(script, None)
    assert local.returncode == 0 and "went-on" in local.stdout, local.stderr
    assert "warning: no Node tests in tests/node; skipped" in local.stderr
    ci = shell(script, "true")
    assert ci.returncode == 1 and "went-on" not in ci.stdout, ci.stdout
    assert "error: no Node tests in tests/node" in ci.stderr


def test_setup_fails_in_ci_when_the_arm64_target_cannot_be_installed(tmp_path):
    # A rustup that has no aarch64 target and cannot download one (no
    # network), in front of the real one.
    fake = tmp_path / "rustup"
    fake.write_text('#!/bin/sh\n[ "$1 $2" = "target list" ] && { echo x86_64-unknown-linux-gnu; exit 0; }\necho "offline" >&2; exit 1\n')
    fake.chmod(0o755)
    local = shell("bash tests/setup.sh", None, tmp_path)
    assert local.returncode == 0, local.stdout + local.stderr
    assert "cannot be tested for arm64; skipped" in local.stderr
    ci = shell("bash tests/setup.sh", "true", tmp_path)
    assert ci.returncode != 0, ci.stdout + ci.stderr
    assert "error: could not install the aarch64-unknown-linux-gnu Rust target" in ci.stderr
