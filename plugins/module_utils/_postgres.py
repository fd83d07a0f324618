# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""PostgreSQL connections for the collection's modules, through psycopg 3.

The option names are those of community.postgresql (login_host, login_port, login_user,
login_password, login_unix_socket, login_db, ssl_mode, ca_cert, ssl_cert, ssl_key,
connect_params, session_role) so that inventories and module_defaults carry over. The
options are documented once, in the stronghold.ops.postgres doc fragment.
"""

from __future__ import annotations

import traceback
from typing import Any, Optional

from ansible.module_utils.basic import missing_required_lib

# The options and their checks need no psycopg: they live in _postgres_spec, which a module that
# connects only sometimes (backup_verify) imports alone. Re-exported here for the others.
from ansible_collections.stronghold.ops.plugins.module_utils._postgres_spec import (  # pylint: disable=unused-import
    SSL_MODES,  # noqa: F401
    check_connection_params,  # noqa: F401
    connection_kwargs,
    postgres_argument_spec,  # noqa: F401
)

# Any: psycopg is optional on a target host, and None stands for it when it is missing.
psycopg: Any
sql: Any
dict_row: Any
PSYCOPG_IMPORT_ERROR: Optional[str]
try:
    import psycopg
    from psycopg import sql
    from psycopg.rows import dict_row
except ImportError:
    psycopg = None
    sql = None
    dict_row = None
    PSYCOPG_IMPORT_ERROR = traceback.format_exc()
else:
    PSYCOPG_IMPORT_ERROR = None


def psycopg_missing() -> Optional[dict[str, str]]:
    """None when psycopg 3 imports; else ``msg`` (how to install it) and ``exception`` (the import
    traceback), for the module's own error to carry to its one ``fail_json``."""
    if psycopg is not None:
        return None
    return {
        "msg": missing_required_lib("psycopg (version 3)", url="https://pypi.org/project/psycopg/"),
        "exception": PSYCOPG_IMPORT_ERROR or "",
    }


class PostgresConnectError(Exception):
    """A connection, or the SET ROLE that follows it, failed; the message says which and why."""


def connect(
    params: dict[str, Any],
    dbname: Optional[str] = None,
    application_name: str = "stronghold.ops",
    autocommit: bool = True,
) -> Any:
    """An autocommit connection with dict rows (VACUUM cannot run inside a transaction)."""
    try:
        conn = psycopg.connect(
            autocommit=autocommit, row_factory=dict_row, **connection_kwargs(params, dbname, application_name)
        )
    except psycopg.Error as exc:
        target = dbname or params.get("login_db") or "(default database)"
        raise PostgresConnectError(
            "cannot connect to database %s as %s: %s"
            % (
                target,
                params["login_user"],
                str(exc).strip().splitlines()[-1] if str(exc).strip() else exc.__class__.__name__,
            )
        ) from exc
    try:
        if params.get("session_role"):
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(params["session_role"])))
    except psycopg.Error as exc:
        conn.close()
        raise PostgresConnectError("cannot SET ROLE %s: %s" % (params["session_role"], str(exc).strip())) from exc
    return conn


def server_version_text(version_num: int) -> str:
    """'15.18' from 150018, '9.6.24' from 90624."""
    major = version_num // 10000
    if major >= 10:
        return "%d.%d" % (major, version_num % 10000)
    return "%d.%d.%d" % (major, (version_num // 100) % 100, version_num % 100)


def in_recovery(conn: Any) -> bool:
    """True on a standby (a server in recovery), where nothing can be written."""
    return conn.execute("SELECT pg_is_in_recovery() AS r").fetchone()["r"]
