# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state kept between runs: a bad file is no state and a reason, never a failed run."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._state import StateError, load_state, save_state


def test_no_path_and_missing_file_are_first_runs(tmp_path):
    assert load_state(None, "k", 1) == (None, None)
    assert load_state(str(tmp_path / "none.json"), "k", 1) == (None, None)


def test_round_trip_is_private_and_keeps_saved_at(tmp_path):
    path = str(tmp_path / "s.json")
    save_state(path, "k", 2, {"a": [1, 2], "_saved_at": 5}, now=1000.0)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    data, problem = load_state(path, "k", 2)
    assert problem is None
    assert data == {"a": [1, 2], "_saved_at": 1000.0}


@pytest.mark.parametrize(
    "text, words",
    [
        ('{"kind": "k", "version": 1, "da', "unreadable or cut"),
        ("[]", "not a k state file"),
        ('{"kind": "other", "version": 1, "data": {}}', "not a k state file"),
        ('{"kind": "k", "version": 1, "data": []}', "not a k state file"),
        ('{"kind": "k", "version": 9, "data": {}}', "version 9"),
        ("\xff\xfe", "unreadable or cut"),
    ],
)
def test_bad_files_are_no_state_with_a_reason(tmp_path, text, words):
    path = tmp_path / "s.json"
    path.write_bytes(text.encode("latin-1"))
    data, problem = load_state(str(path), "k", 1)
    assert data is None
    assert words in problem and str(path) in problem


def test_a_directory_is_no_state_with_a_reason(tmp_path):
    data, problem = load_state(str(tmp_path), "k", 1)
    assert data is None and problem


def test_unwritable_place_raises_state_error(tmp_path):
    with pytest.raises(StateError, match="cannot write the state file"):
        save_state(str(tmp_path / "missing" / "s.json"), "k", 1, {})


def test_a_failed_write_keeps_the_old_state(tmp_path):
    path = tmp_path / "s.json"
    save_state(str(path), "k", 1, {"n": 1})
    with pytest.raises(StateError):
        save_state(str(path), "k", 1, {"n": float("nan"), "bad": {1: 2, "1": 3}, "c": {(1, 2): 3}})
    assert json.loads(path.read_text())["data"] == {"n": 1}
