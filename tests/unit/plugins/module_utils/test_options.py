# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError
from ansible_collections.stronghold.ops.plugins.module_utils._options import (
    BACKUP_FILES_SPEC,
    FAIL_ON_SPEC,
    argument_spec,
    duration_spec,
    read_duration,
)


def test_argument_spec_composes_the_parts_and_the_modules_own_options():
    spec = argument_spec(FAIL_ON_SPEC, BACKUP_FILES_SPEC, own={"timeout": duration_spec("5m")})
    assert list(spec) == ["fail_on", "directory", "pattern", "timezone", "timeout"]
    assert spec["fail_on"] == {
        "type": "str",
        "choices": ["critical", "warning", "info", "never"],
        "default": "critical",
    }
    assert spec["directory"] == {"type": "path", "required": True}
    assert spec["timeout"] == {"type": "raw", "default": "5m"}


def test_argument_spec_without_own_options():
    assert argument_spec(FAIL_ON_SPEC) == FAIL_ON_SPEC
    assert argument_spec() == {}


@pytest.mark.parametrize(
    "parts, own",
    [
        ((FAIL_ON_SPEC, FAIL_ON_SPEC), None),
        ((FAIL_ON_SPEC,), {"fail_on": {"type": "str"}}),
        ((BACKUP_FILES_SPEC, {"pattern": {"type": "str"}}), None),
    ],
)
def test_an_option_defined_twice_is_refused_by_name(parts, own):
    with pytest.raises(ValueError, match="option '(fail_on|pattern)' is defined twice"):
        argument_spec(*parts, own=own)


def test_the_parts_are_deep_copied_so_no_module_changes_anothers_options():
    own = {"timeout": {"type": "raw", "aliases": ["wait"]}}
    first = argument_spec(FAIL_ON_SPEC, own=own)
    first["fail_on"]["choices"].remove("info")
    first["fail_on"]["default"] = "warning"
    first["timeout"]["aliases"].append("deadline")
    assert FAIL_ON_SPEC["fail_on"]["choices"] == ["critical", "warning", "info", "never"]
    assert FAIL_ON_SPEC["fail_on"]["default"] == "critical"
    assert own["timeout"]["aliases"] == ["wait"]
    assert argument_spec(FAIL_ON_SPEC)["fail_on"]["choices"] == ["critical", "warning", "info", "never"]


def test_duration_spec_is_raw_so_numbers_and_strings_arrive_unconverted():
    assert duration_spec() == {"type": "raw"}
    assert duration_spec(60) == {"type": "raw", "default": 60}
    assert duration_spec("26h", aliases=["max_age"]) == {"type": "raw", "default": "26h", "aliases": ["max_age"]}
    assert duration_spec() is not duration_spec()


@pytest.mark.parametrize("value, seconds", [(90, 90.0), (1.5, 1.5), ("90", 90.0), ("5m", 300.0), ("1d12h", 129600.0)])
def test_read_duration_reads_seconds_and_strings(value, seconds):
    assert read_duration({"timeout": value}, "timeout") == seconds


@pytest.mark.parametrize("params", [{}, {"timeout": None}, {"timeout": ""}])
def test_read_duration_of_an_unset_option_is_none(params):
    assert read_duration(params, "timeout") is None


@pytest.mark.parametrize(
    "value, maximum, message",
    [
        ("5 parsecs", None, "^timeout: unknown duration unit 'parsecs'"),
        (-1, None, "^timeout: a duration cannot be negative"),
        ("nan", None, "^timeout: a duration cannot be NaN"),
        (True, None, "^timeout: a duration must be a number of seconds"),
        ("2h", 3600, "^timeout: the duration '2h' is too long: at most 3600 seconds"),
    ],
)
def test_read_duration_names_the_option_in_its_error(value, maximum, message):
    with pytest.raises(FindingError, match=message):
        read_duration({"timeout": value}, "timeout", maximum=maximum)


def test_read_duration_accepts_the_maximum_itself():
    assert read_duration({"timeout": "1h"}, "timeout", maximum=3600) == 3600.0
