# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run report's rerun hint (--limit with the failed hosts) read back by Ansible's own host
pattern splitting. A controller test: the module_utils tests may not import ansible.inventory."""

from __future__ import annotations

import re
import shlex

import pytest
from ansible.inventory.manager import split_host_pattern

from ansible_collections.stronghold.ops.plugins.module_utils._fleet_timing import rerun_limit


def hosts_matched(limit, inventory):
    """What Ansible's own pattern splitting and matching make of the --limit argument."""
    [argument] = shlex.split(limit)[1:]
    matched = []
    for pattern in split_host_pattern(argument):
        if pattern.startswith("~"):
            matched += [h for h in inventory if re.search(pattern[1:], h)]
        else:
            matched += [h for h in inventory if h == pattern]
    return matched


def test_plain_names_are_left_as_they_are():
    assert rerun_limit(["web1", "db-2.example.com", "10.0.0.7"]) == "--limit web1,db-2.example.com,10.0.0.7"
    assert rerun_limit([]) == ""


@pytest.mark.parametrize(
    "odd", ["web,1", "db:5432", "host[1]", "a*b", "!not", "&and", "~tilde", "sp ace", "it's", "ünï", "q$(x)", "a`b`"]
)
def test_odd_names_match_exactly_that_host_in_ansible_patterns(odd):
    inventory = [odd, "web1", "web", "1", "db", "host1", "ab", "a", "b", "x"]
    limit = rerun_limit([odd, "web1"])
    assert hosts_matched(limit, inventory) == [odd, "web1"]
    # One shell word whatever the name: nothing the shell expands survives outside the quotes.
    assert len(shlex.split(limit)) == 2
