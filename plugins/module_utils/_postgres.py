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

import os
import traceback

from ansible.module_utils.basic import missing_required_lib

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

SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


def postgres_argument_spec():
    """The connection options shared by every PostgreSQL module of the collection."""
    return {
        "login_user": {"type": "str", "default": os.environ.get("PGUSER") or "postgres"},
        "login_password": {"type": "str", "no_log": True, "default": ""},
        "login_host": {"type": "str", "default": ""},
        "login_port": {"type": "int", "default": 5432},
        "login_unix_socket": {"type": "str", "default": ""},
        "login_db": {"type": "str"},
        "ssl_mode": {"type": "str", "default": "prefer", "choices": SSL_MODES},
        "ca_cert": {"type": "str", "aliases": ["ssl_rootcert"]},
        "ssl_cert": {"type": "path"},
        "ssl_key": {"type": "path", "no_log": False},
        "connect_params": {"type": "dict", "default": {}},
        "connect_timeout": {"type": "int", "default": 10},
        "session_role": {"type": "str"},
    }


def ensure_psycopg(module):
    if psycopg is None:
        module.fail_json(msg=missing_required_lib("psycopg (version 3)", url="https://pypi.org/project/psycopg/"),
                         exception=PSYCOPG_IMPORT_ERROR)


def check_connection_params(params):
    """Messages for connection options that cannot work, before any connection is tried."""
    problems = []
    if not 0 < params["login_port"] < 65536:
        problems.append("login_port must be between 1 and 65535, got %d" % params["login_port"])
    if params["connect_timeout"] < 1:
        problems.append("connect_timeout must be at least 1 second, got %d" % params["connect_timeout"])
    return problems


def connection_kwargs(params, dbname=None, application_name="stronghold.ops"):
    """libpq keywords from the module options; connect_params is applied last and wins."""
    kwargs = {
        "user": params["login_user"],
        "port": params["login_port"],
        "sslmode": params["ssl_mode"],
        "application_name": application_name,
        "connect_timeout": params["connect_timeout"],
    }
    host = params["login_host"]
    # As community.postgresql does: a socket directory replaces an empty or "localhost" host.
    if params["login_unix_socket"] and host in ("", "localhost"):
        host = params["login_unix_socket"]
    if host:
        kwargs["host"] = host
    if params["login_password"]:
        kwargs["password"] = params["login_password"]
    database = dbname or params.get("login_db")
    if database:
        kwargs["dbname"] = database
    for option, keyword in (("ca_cert", "sslrootcert"), ("ssl_cert", "sslcert"), ("ssl_key", "sslkey")):
        if params.get(option):
            kwargs[keyword] = params[option]
    kwargs.update(params.get("connect_params") or {})
    return kwargs


class PostgresConnectError(Exception):
    pass


def connect(params, dbname=None, application_name="stronghold.ops", autocommit=True):
    """An autocommit connection with dict rows (VACUUM cannot run inside a transaction)."""
    try:
        conn = psycopg.connect(autocommit=autocommit, row_factory=dict_row,
                               **connection_kwargs(params, dbname, application_name))
    except psycopg.Error as exc:
        target = dbname or params.get("login_db") or "(default database)"
        raise PostgresConnectError("cannot connect to database %s as %s: %s" % (
            target, params["login_user"], str(exc).strip().splitlines()[-1] if str(exc).strip() else exc.__class__.__name__))
    try:
        if params.get("session_role"):
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(params["session_role"])))
    except psycopg.Error as exc:
        conn.close()
        raise PostgresConnectError("cannot SET ROLE %s: %s" % (params["session_role"], str(exc).strip()))
    return conn


def server_version_text(version_num):
    """'15.18' from 150018, '9.6.24' from 90624."""
    major = version_num // 10000
    if major >= 10:
        return "%d.%d" % (major, version_num % 10000)
    return "%d.%d.%d" % (major, (version_num // 100) % 100, version_num % 100)


def in_recovery(conn):
    return conn.execute("SELECT pg_is_in_recovery() AS r").fetchone()["r"]
