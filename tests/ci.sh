# Sourced by tests/run.sh and tests/setup.sh: what to do when something a
# test needs is missing. Locally, say so and go on; in CI (CI=true, as CI
# runs .ci/run) a test that cannot run is a gap, so stop with an error.

in_ci() {
    case "${CI:-}" in
        true | TRUE | True | 1 | yes) return 0 ;;
        *) return 1 ;;
    esac
}

# missing WHAT: WHAT cannot be tested here.
missing() {
    if in_ci; then
        echo "error: $1 (CI=true allows no skipped suite)" >&2
        return 1
    fi
    echo "warning: $1; skipped" >&2
}
