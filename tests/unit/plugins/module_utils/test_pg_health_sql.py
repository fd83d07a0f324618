# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_health's SQL for each version of pg_stat_statements, checked as text (only PostgreSQL 15 runs
here: the 13 and 17+ variants are proven by the column names they ask for)."""

from __future__ import annotations

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._pg_health_sql import (
    activity_query,
    has_info_view,
    statements_era,
    statements_query,
)


@pytest.mark.parametrize(
    "server, extversion, era",
    [
        (130012, "1.8", 13),
        (140009, "1.9", 14),
        (150018, "1.10", 14),
        (160004, "1.10", 14),
        (170002, "1.11", 17),
        (180000, "1.12", 17),
        # The extension's own version decides: a 1.8 left on a PostgreSQL 14 server has no toplevel.
        (140009, "1.8", 13),
        (170002, "1.10", 14),
        # Older than 1.8 (total_time): not read.
        (120010, "1.7", None),
        (130012, "1.7", None),
        # Version unknown: the server's.
        (130012, None, 13),
        (150018, "", 14),
        (170002, "dev", 17),
        (120010, None, None),
    ],
)
def test_statements_era_follows_the_extension_version(server, extversion, era):
    assert statements_era(server, extversion) == era


def test_postgresql_13_has_total_exec_time_and_no_toplevel_nor_info_view():
    text = statements_query(13)
    assert "s.total_exec_time AS total_ms" in text
    assert "true AS toplevel" in text and "s.toplevel" not in text
    assert "s.blk_read_time AS blk_read_ms" in text
    assert "NULL::float8 AS stats_since" in text
    assert "total_time AS" not in text.replace("total_exec_time AS", "")
    assert not has_info_view(13)


def test_postgresql_14_to_16_have_toplevel_and_the_info_view():
    text = statements_query(14)
    assert "s.toplevel AS toplevel" in text
    assert "s.blk_read_time AS blk_read_ms" in text
    assert "NULL::float8 AS stats_since" in text
    assert has_info_view(14)


def test_postgresql_17_renamed_block_times_and_has_stats_since():
    text = statements_query(17)
    assert "s.shared_blk_read_time AS blk_read_ms" in text and "s.blk_read_time" not in text
    assert "EXTRACT(EPOCH FROM s.stats_since)::float8 AS stats_since" in text
    assert has_info_view(17)


@pytest.mark.parametrize("era", [13, 14, 17])
def test_no_query_text_is_read_for_the_snapshot(era):
    text = statements_query(era)
    assert "pg_stat_statements(false)" in text and "query" not in text.replace("queryid", "")
    # Only {schema} is left for the module to quote with sql.Identifier.
    assert text.count("{") == 1 and "{schema}.pg_stat_statements" in text


def test_activity_reads_session_text_only_when_asked():
    assert "NULL::text AS query" in activity_query(False)
    assert "left(a.query, 400) AS query" in activity_query(True)
