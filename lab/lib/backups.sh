# shellcheck shell=bash
# Real pg_dump | gzip backups with .sha256 sidecars (created only when none exist).

ensure_backups() {
    install -d -m 0755 "$LAB_ROOT/backups"
    install -d -m 0700 "$LAB_BACKUP_DIR"
    local existing
    existing=$(find "$LAB_BACKUP_DIR" -maxdepth 1 -name 'backup_*.sql.gz' | wc -l)
    if ((existing > 0)); then
        ok "backups: $existing present in $LAB_BACKUP_DIR"
        return 0
    fi
    log "backups: creating 3 pg_dump | gzip backups (now, -1 day, -2 days)"
    local n epoch name
    for n in 2 1 0; do
        epoch=$(( $(date +%s) - n * 86400 ))
        name="backup_$(date -d "@$epoch" +%Y%m%d_%H%M%S).sql.gz"
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
