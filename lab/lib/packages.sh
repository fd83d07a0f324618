# shellcheck shell=bash
# Install what is missing (Debian 12), reuse what exists.

ensure_packages() {
    local need=()
    [[ -x $LAB_PG_BIN/initdb && -x $LAB_PG_BIN/pg_ctl ]] || need+=(postgresql-15)
    [[ -f /usr/lib/postgresql/15/lib/pg_stat_statements.so ]] || need+=(postgresql-contrib)
    command -v psql >/dev/null && command -v pg_dump >/dev/null || need+=(postgresql-client-15)
    if ! command -v docker >/dev/null \
        || { ! docker -H "unix://$LAB_SYSTEM_DOCKER_SOCK" info >/dev/null 2>&1 && ! command -v dockerd >/dev/null; }; then
        need+=(docker.io)
    fi
    command -v debootstrap >/dev/null || need+=(debootstrap)
    command -v curl >/dev/null || need+=(curl)
    [[ -f /etc/ssl/certs/ca-certificates.crt ]] || need+=(ca-certificates)
    command -v openssl >/dev/null || need+=(openssl)
    command -v gzip >/dev/null || need+=(gzip)
    # The certificates role's monthly `certbot renew --dry-run`. No lineage is created here:
    # with an empty /etc/letsencrypt the dry run renews nothing and contacts no ACME server.
    command -v certbot >/dev/null || need+=(certbot)
    if ((${#need[@]} == 0)); then
        ok "packages present (postgresql-15, docker, debootstrap, curl, ca-certificates, certbot)"
        return 0
    fi
    log "installing missing packages: ${need[*]}"
    # Never let package maintainer scripts start services (a default dockerd would
    # create a docker0 bridge on a private range; a default PostgreSQL cluster is not ours).
    local made_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 0755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    local rc=0
    {
        apt-get update -q &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
    } >"/tmp/stronghold-lab-apt.$$.log" 2>&1 || rc=$?
    ((made_policy)) && rm -f /usr/sbin/policy-rc.d
    if ((rc != 0)); then
        tail -20 "/tmp/stronghold-lab-apt.$$.log" >&2
        die "apt-get install failed (full log: /tmp/stronghold-lab-apt.$$.log)"
    fi
    rm -f "/tmp/stronghold-lab-apt.$$.log"
    ok "installed: ${need[*]}"
}
