# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The holders of the xmin horizon, shared by pg_vacuum and pg_health, fed with plain rows (the query
itself runs against a real PostgreSQL in the pg_vacuum and pg_health integration targets)."""

from __future__ import annotations

from datetime import datetime, timezone

from ansible_collections.stronghold.ops.plugins.module_utils._xmin_holders import (
    HOLDER_KINDS,
    XMIN_HOLDERS_QUERY,
    describe_holder,
    holder_dict,
    holders_for,
    oldest_holder,
)
from ansible_collections.stronghold.ops.tests.unit.plugins.module_utils.holder_rows import (
    FEEDBACK,
    LOGICAL,
    OTHER_DB,
    PREPARED,
    SESSION,
    SLOT,
)

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)


def test_holders_for_a_database_are_those_that_hold_its_tables():
    holders = [SLOT, LOGICAL, SESSION, OTHER_DB, PREPARED, FEEDBACK]
    assert [h["id"] for h in holders_for(holders, "app")] == ["4242", "replica", "standby1", "gid1"]
    assert [h["id"] for h in holders_for(holders, "other")] == ["77", "replica", "standby1"]
    # overall: the oldest that holds tables, not the catalog-only logical slot
    assert oldest_holder(holders)["id"] == "77"
    assert oldest_holder([LOGICAL])["id"] == "cdc"
    assert oldest_holder([]) is None


def test_at_equal_age_the_primary_transaction_is_named_before_the_standby_echoing_it():
    assert [h["kind"] for h in holders_for([FEEDBACK, SESSION], "app")] == ["session", "standby_feedback"]


def test_describe_holder_names_what_a_dba_looks_for():
    assert describe_holder(SESSION) == (
        "session pid 4242 (user app, application gunicorn, client 10.0.0.5, database app, idle in transaction, "
        "xmin age 900, open 5400 s, query start 2026-11-27T00:30:00+00:00)"
    )
    assert describe_holder(LOGICAL).startswith("replication slot cdc (catalog_xmin: system catalogs only) (")


def test_holder_dict_renders_timestamps():
    row = {"id": "1", "xact_start": NOW, "query_start": None}
    assert holder_dict(row) == {"id": "1", "xact_start": NOW.isoformat(), "query_start": None}


def test_every_kind_the_query_returns_is_ordered():
    for kind in HOLDER_KINDS:
        assert "'%s'" % kind in XMIN_HOLDERS_QUERY


def test_pg_vacuum_still_reads_the_shared_helpers_through_its_planner():
    from ansible_collections.stronghold.ops.plugins.module_utils import _vacuum

    assert _vacuum.describe_holder is describe_holder and _vacuum.oldest_holder is oldest_holder
