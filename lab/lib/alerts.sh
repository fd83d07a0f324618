# shellcheck shell=bash
# The alert receivers (lab/alert_sink.py): SMTP on 127.0.0.1:18025 and the webhook on
# 127.0.0.1:18026; what they receive is in $LAB_ALERTS_DIR/mail.jsonl and webhook.jsonl.

alerts_answer() {
    timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$LAB_ALERT_SMTP_PORT" 2>/dev/null \
        && curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$LAB_ALERT_HTTP_PORT/"
}

stop_alert_sink() { stop_pidfile "$LAB_ALERTS_DIR/ready" "alert receivers"; }

ensure_alert_sink() {
    install -d -m 0755 "$LAB_ALERTS_DIR"
    if pid_alive "$LAB_ALERTS_DIR/ready" && alerts_answer; then
        ok "alert receivers (pid $(cat "$LAB_ALERTS_DIR/ready")) answer: SMTP 127.0.0.1:$LAB_ALERT_SMTP_PORT, webhook 127.0.0.1:$LAB_ALERT_HTTP_PORT"
        return 0
    fi
    stop_alert_sink
    log "starting the alert receivers: SMTP 127.0.0.1:$LAB_ALERT_SMTP_PORT, webhook 127.0.0.1:$LAB_ALERT_HTTP_PORT"
    detach "$LAB_ALERTS_DIR/sink.log" "$LAB_PYTHON" "$LAB_DIR/alert_sink.py" --dir "$LAB_ALERTS_DIR" \
        --smtp-port "$LAB_ALERT_SMTP_PORT" --http-port "$LAB_ALERT_HTTP_PORT"
    wait_for 30 "alert receivers" alerts_answer
    ok "alert receivers (pid $(cat "$LAB_ALERTS_DIR/ready")) answer (mail in $LAB_ALERTS_DIR/mail.jsonl, log $LAB_ALERTS_DIR/sink.log)"
}
