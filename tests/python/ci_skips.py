"""In CI (CI=true, as CI runs `.ci/run`), a test that cannot run is a gap,
not a pass: every skip and every expected failure (pytest.skip, skipif,
pytest.xfail, a module skipped at collection) is reported as a failure with
its reason. Locally they stay skips, so a developer without, say, the arm64
target can still run the rest.

Loaded by conftest.py (`pytest_plugins`); tests/python/test_ci_skips.py
runs a skipping test under both settings.
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _reason(report) -> str:
    if getattr(report, "wasxfail", None) is not None:
        return f"expected failure: {report.wasxfail}"
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _fail_instead_of_skip(report) -> None:
    reason = _reason(report)
    if hasattr(report, "wasxfail"):
        del report.wasxfail
    report.outcome = "failed"
    report.longrepr = f"not run in CI (CI=true), which allows no skip: {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if in_ci() and report.skipped:
        _fail_instead_of_skip(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    report = yield
    if in_ci() and report.skipped:
        _fail_instead_of_skip(report)
    return report
