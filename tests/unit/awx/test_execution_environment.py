# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The execution environment's files agree with each other and with requirements.txt.

ansible-builder itself runs in tests/collection-install.sh (make integration); these tests keep
the files from drifting apart: every package of requirements.txt is in ee/requirements.lock at the same
version with its hashes, every collection-level Python requirement that the lock replaces is
excluded by name, and the files that meta/execution-environment.yml and
execution-environment.yml name exist.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, str]:
    """name -> version of each `name==version` (extras dropped) of a requirements file."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==([^\s;\\]+)", line)
        if match:
            pins[_canonical(match.group(1))] = match.group(3)
    return pins


def _hashed(path: Path) -> dict[str, int]:
    """name -> number of --hash options of each requirement of a pip-compile lock."""
    counts: dict[str, int] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==", line)
        if match:
            current = _canonical(match.group(1))
            counts[current] = 0
        elif current and line.strip().startswith("--hash=sha256:"):
            counts[current] += 1
    return counts


def _definition() -> dict:
    return yaml.safe_load((REPO / "execution-environment.yml").read_text(encoding="utf-8"))


def test_the_lock_pins_requirements_txt_at_the_same_versions_with_hashes():
    wanted = _pins(REPO / "requirements.txt")
    locked = _pins(REPO / "ee" / "requirements.lock")
    assert wanted, "requirements.txt pins nothing"
    for name, version in wanted.items():
        assert locked.get(name) == version, "%s: requirements.txt %s, lock %s" % (name, version, locked.get(name))
    hashes = _hashed(REPO / "ee" / "requirements.lock")
    assert set(hashes) == set(locked)
    assert all(count > 0 for count in hashes.values()), hashes


def test_the_collections_own_python_requirements_are_excluded_for_the_lock():
    excluded = {_canonical(name) for name in _definition()["dependencies"]["exclude"]["python"]}
    for name in _pins(REPO / "requirements.txt"):
        # psycopg[binary] is matched by its name, psycopg.
        assert name in excluded, name
    locked = set(_pins(REPO / "ee" / "requirements.lock"))
    assert excluded - {"pytest-mock"} <= locked, "an excluded package must come from the lock"


def test_the_files_the_definitions_name_exist():
    definition = _definition()
    assert definition["version"] == 3
    for key in ("python", "galaxy"):
        assert (REPO / definition["dependencies"][key]).is_file()
    meta = yaml.safe_load((REPO / "meta" / "execution-environment.yml").read_text(encoding="utf-8"))
    for key in ("python", "system"):
        assert (REPO / meta["dependencies"][key]).is_file()
    galaxy = yaml.safe_load((REPO / "ee" / "requirements.yml").read_text(encoding="utf-8"))
    (own,) = [c for c in galaxy["collections"] if c.get("type") == "file"]
    manifest = yaml.safe_load((REPO / "galaxy.yml").read_text(encoding="utf-8"))
    assert own["name"] == "files/%s-%s-%s.tar.gz" % (manifest["namespace"], manifest["name"], manifest["version"])
    assert {"src": "ee/" + own["name"].split("/")[-1], "dest": "files"} in definition["additional_build_files"]
    assert {c["name"] for c in galaxy["collections"] if "type" not in c} == set(manifest["dependencies"])
