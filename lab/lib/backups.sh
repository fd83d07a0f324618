# shellcheck shell=bash
# Real pg_dump | gzip backups with .sha256 sidecars (created only when none exist).

ensure_backups() {
    install -d -m 0755 "$LAB_ROOT/backups"
    install -d -m 0700 "$LAB_BACKUP_DIR"
    local existing
    existing=$(find "$LAB_BACKUP_DIR" -maxdepth 1 -name 'backup_*.sql.gz' | wc -l)
    local newest age ages
    if ((existing > 0)); then
        # The nightly backup job of a real installation: a lab that lives for days gets a new
        # backup when the newest is older than 20 h, so the daily RPO check sees what it would
        # see in production (backups are written by pg_dump, never faked).
        newest=$(find "$LAB_BACKUP_DIR" -maxdepth 1 -name 'backup_*.sql.gz' -printf '%f\n' | sort | tail -n1)
        age=$(( $(date -u +%s) - $(date -u -d "$(sed -E 's/^backup_([0-9]{4})([0-9]{2})([0-9]{2})_([0-9]{2})([0-9]{2})([0-9]{2}).*/\1-\2-\3 \4:\5:\6/' <<<"$newest")" +%s) ))
        if ((age < 20 * 3600)); then
            ok "backups: $existing present in $LAB_BACKUP_DIR, newest $newest"
            return 0
        fi
        log "backups: newest $newest is $((age / 3600)) h old; writing tonight's backup now"
        ages=(0)
    else
        log "backups: creating 3 pg_dump | gzip backups (now, -1 day, -2 days)"
        ages=(2 1 0)
    fi
    local n epoch name
    for n in "${ages[@]}"; do
        epoch=$(( $(date +%s) - n * 86400 ))
        name="backup_$(date -u -d "@$epoch" +%Y%m%d_%H%M%S).sql.gz"  # UTC, as the playbooks read it
        (
            umask 077
            as_postgres "$LAB_PG_BIN/pg_dump" -h "$LAB_PG_RUN" -p "$LAB_PG_PORT" -U postgres -d "$LAB_DB_NAME" \
                | gzip -6 >"$LAB_BACKUP_DIR/.$name.partial"
            mv "$LAB_BACKUP_DIR/.$name.partial" "$LAB_BACKUP_DIR/$name"
            cd "$LAB_BACKUP_DIR" && sha256sum "$name" >"$name.sha256"
        ) || die "backup $name failed"
        chmod 0600 "$LAB_BACKUP_DIR/$name" "$LAB_BACKUP_DIR/$name.sha256"
        touch -d "@$epoch" "$LAB_BACKUP_DIR/$name" "$LAB_BACKUP_DIR/$name.sha256"
        ok "backup $name ($(du -h "$LAB_BACKUP_DIR/$name" | cut -f1))"
    done
}
