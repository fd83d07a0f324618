# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Connection options of every PostgreSQL module of stronghold.ops. The names are those of
    # community.postgresql, so inventories and module_defaults carry over.
    DOCUMENTATION = r"""
options:
  login_user:
    description:
      - The role to connect as. Defaults to E(PGUSER) when set, otherwise C(postgres).
    type: str
    default: postgres
  login_password:
    description:
      - Password of O(login_user); empty for peer, trust or certificate authentication or a
        C(.pgpass) file.
    type: str
    default: ''
  login_host:
    description:
      - Host name or address of the server; empty to connect through the Unix socket.
    type: str
    default: ''
  login_port:
    description: Port of the server.
    type: int
    default: 5432
  login_unix_socket:
    description:
      - Directory of the server's Unix socket; used when O(login_host) is empty or V(localhost).
    type: str
    default: ''
  login_db:
    description:
      - Database to connect to first; libpq's default (the user name) when omitted.
    type: str
  ssl_mode:
    description: libpq's C(sslmode).
    type: str
    default: prefer
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
  ca_cert:
    description: CA certificate(s) the server's certificate must chain to (libpq C(sslrootcert)).
    type: str
    aliases: [ssl_rootcert]
  ssl_cert:
    description: Client certificate (libpq C(sslcert)).
    type: path
  ssl_key:
    description: Key of the client certificate (libpq C(sslkey)).
    type: path
  connect_params:
    description:
      - Further libpq connection keywords (for example C(target_session_attrs)); applied last,
        so they override the options above.
    type: dict
    default: {}
  connect_timeout:
    description: Seconds to wait for each connection.
    type: int
    default: 10
  session_role:
    description:
      - Role to switch to after connecting (C(SET ROLE)); the module then acts with that role's
        privileges.
    type: str
requirements:
  - psycopg >= 3.1 (the C(psycopg) package, version 3) on the host that runs the module.
notes:
  - Every connection sets C(application_name) to the module's name, so its sessions are
    recognisable in C(pg_stat_activity).
"""
