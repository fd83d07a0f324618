# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The PostgreSQL connection options of the collection's modules and their checks, without psycopg.

_postgres imports psycopg (about 14 MiB of memory) and re-exports everything here; a module that
only sometimes connects imports this file alone and _postgres when it connects.
"""

from __future__ import annotations

import os
from typing import Any, Optional

SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


def postgres_argument_spec() -> dict[str, dict[str, Any]]:
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


def check_connection_params(params: dict[str, Any]) -> list[str]:
    """Messages for connection options that cannot work, before any connection is tried."""
    problems = []
    if not 0 < params["login_port"] < 65536:
        problems.append("login_port must be between 1 and 65535, got %d" % params["login_port"])
    if params["connect_timeout"] < 1:
        problems.append("connect_timeout must be at least 1 second, got %d" % params["connect_timeout"])
    return problems


def connection_kwargs(
    params: dict[str, Any], dbname: Optional[str] = None, application_name: str = "stronghold.ops"
) -> dict[str, Any]:
    """libpq keywords from the module options; connect_params is applied last and wins."""
    kwargs: dict[str, Any] = {
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
