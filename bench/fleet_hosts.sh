#!/usr/bin/env bash
# Test fleet for the issue-15 fleet benchmark: N network namespaces on this
# machine, each a "host" reached over real SSH.
#
#   bench/fleet_hosts.sh up N [--services [PORTS]]
#                                 create shfleet1..shfleetN (N <= 250); with --services the
#                                 lab's services (PORTS, default 18000,55432,18443-18445) are
#                                 each host's own 127.0.0.1:<port> (below)
#   bench/fleet_hosts.sh down     stop the forwarder and the sshds, delete namespaces, veths, temp dir
#   bench/fleet_hosts.sh status   list what exists
#
# Per host i: namespace shfleet<i>, veth pair shf<i>r (root side, 10.251.<i>.1/30)
# <-> shf<i>n (namespace side, 10.251.<i>.2/30), loopback up in the namespace,
# one sshd listening only on 10.251.<i>.2:22. No bridge and no default route in
# the namespace: the only address it can reach is 10.251.<i>.1 (the root side
# of its own /30), so nothing can leave the machine. A /30 per host keeps hosts
# isolated from one another as on separate machines, without a bridge.
#
# --services: the lab listens on 127.0.0.1 of the root namespace, which a namespace cannot
# reach. One forwarder process (fleet/tcp_forward.py, pid file in $FLEET_DIR) listens on every
# root-side address 10.251.<i>.1 for each port and connects to 127.0.0.1:<port>; inside each
# namespace only (its own sysctl and netfilter, gone with the namespace) route_localnet=1 and
# two NAT rules per port make 127.0.0.1:<port> of the host land on 10.251.<i>.1:<port>. No rule
# in the root namespace's netfilter, no address outside the namespaces. The services seen from
# a host are the lab's: PostgreSQL sees the forwarder's 127.0.0.1 as the client (pg_hba as is);
# the Docker socket is a file on the shared filesystem and needs nothing.
#
# Keys (throwaway host key, client key, authorized_keys), sshd configs, pid
# files and the generated inventory live in $FLEET_DIR (default
# /tmp/shfleet); nothing under /etc/ssh or ~/.ssh is read or changed (the
# inventory points ssh at its own known_hosts and identity).
set -euo pipefail

FLEET_DIR=${FLEET_DIR:-/tmp/shfleet}
PREFIX=shfleet
SSHD=${SSHD:-/usr/sbin/sshd}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The ports daily.yml uses against the lab from the hosts (inventories/lab): the app 18000,
# PostgreSQL 55432, the TLS endpoints 18443-18445. The alert receivers (18025/18026) are
# reached from the controller (the report role's run_once task on localhost), not the hosts.
SERVICE_PORTS_DEFAULT=18000,55432,18443,18444,18445

ns_list() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${PREFIX}[0-9]+$" || true; }

up() {
  local n=${1:?usage: $0 up N [--services [PORTS]]} services=${2:-} ports=${3:-$SERVICE_PORTS_DEFAULT}
  [[ -z $services || $services == --services ]] || { echo "unknown option $services" >&2; exit 2; }
  [[ $ports =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "PORTS must be comma-separated numbers" >&2; exit 2; }
  [[ $n =~ ^[0-9]+$ && $n -ge 1 && $n -le 250 ]] || { echo "N must be 1..250" >&2; exit 2; }
  [[ -x $SSHD ]] || { echo "$SSHD missing: apt-get install -y openssh-server (then disable the system unit)" >&2; exit 2; }
  if [[ -n $(ns_list) ]]; then echo "fleet exists; run '$0 down' first" >&2; exit 2; fi
  mkdir -p "$FLEET_DIR" /run/sshd
  chmod 700 "$FLEET_DIR"
  [[ -f $FLEET_DIR/host_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C shfleet-host -f "$FLEET_DIR/host_ed25519"
  [[ -f $FLEET_DIR/client_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C shfleet-client -f "$FLEET_DIR/client_ed25519"
  cp "$FLEET_DIR/client_ed25519.pub" "$FLEET_DIR/authorized_keys"
  chmod 600 "$FLEET_DIR/authorized_keys"
  : > "$FLEET_DIR/known_hosts"
  local inv=$FLEET_DIR/inventory.ini
  {
    echo "[fleet]"
  } > "$inv"
  local i ns vr vn root_ip ns_ip
  for ((i = 1; i <= n; i++)); do
    ns=$PREFIX$i; vr=shf${i}r; vn=shf${i}n
    root_ip=10.251.$i.1; ns_ip=10.251.$i.2
    ip netns add "$ns"
    ip link add "$vr" type veth peer name "$vn"
    ip link set "$vn" netns "$ns"
    ip addr add "$root_ip/30" dev "$vr"
    ip link set "$vr" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$ns_ip/30" dev "$vn"
    ip -n "$ns" link set "$vn" up
    cat > "$FLEET_DIR/sshd_$i.conf" <<EOF
ListenAddress $ns_ip:22
HostKey $FLEET_DIR/host_ed25519
PidFile $FLEET_DIR/sshd_$i.pid
AuthorizedKeysFile $FLEET_DIR/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 100:30:200
MaxSessions 50
UseDNS no
Subsystem sftp internal-sftp
EOF
    ip netns exec "$ns" "$SSHD" -f "$FLEET_DIR/sshd_$i.conf" -E "$FLEET_DIR/sshd_$i.log"
    echo "$ns_ip $(cat "$FLEET_DIR/host_ed25519.pub" | cut -d' ' -f1-2)" >> "$FLEET_DIR/known_hosts"
    echo "fleet$i ansible_host=$ns_ip fleet_root_ip=$root_ip" >> "$inv"
  done
  cat >> "$inv" <<EOF

[fleet:vars]
ansible_connection=ssh
ansible_user=root
ansible_ssh_private_key_file=$FLEET_DIR/client_ed25519
ansible_ssh_common_args=-o UserKnownHostsFile=$FLEET_DIR/known_hosts -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes
ansible_python_interpreter=/usr/bin/python3
EOF
  [[ -z $services ]] || services_up "$n" "$ports"
  # wait for every sshd to accept
  for ((i = 1; i <= n; i++)); do
    local t=0
    until ssh -o BatchMode=yes -o ConnectTimeout=2 -o UserKnownHostsFile="$FLEET_DIR/known_hosts" \
        -o IdentitiesOnly=yes -i "$FLEET_DIR/client_ed25519" root@10.251.$i.2 true 2>/dev/null; do
      t=$((t + 1)); [[ $t -lt 20 ]] || { echo "shfleet$i sshd not answering" >&2; exit 1; }
      sleep 0.2
    done
  done
  echo "up: $n hosts; inventory $inv"
}

services_up() {
  local n=$1 ports=$2 i ns port addrs=""
  for ((i = 1; i <= n; i++)); do addrs+="${addrs:+,}10.251.$i.1"; done
  rm -f "$FLEET_DIR/forward.ready"
  setsid python3 "$HERE/fleet/tcp_forward.py" 127.0.0.1 "$addrs" "$ports" "$FLEET_DIR/forward.ready" \
    </dev/null >"$FLEET_DIR/forward.log" 2>&1 &
  echo $! > "$FLEET_DIR/forward.pid"
  local t=0
  until [[ -s $FLEET_DIR/forward.ready ]]; do
    kill -0 "$(cat "$FLEET_DIR/forward.pid")" 2>/dev/null || { cat "$FLEET_DIR/forward.log" >&2; exit 1; }
    t=$((t + 1)); [[ $t -lt 100 ]] || { echo "forwarder not listening" >&2; exit 1; }
    sleep 0.1
  done
  for ((i = 1; i <= n; i++)); do
    ns=$PREFIX$i
    # Namespace-local: its own sysctl and netfilter tables, deleted with the namespace.
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.route_localnet=1
    for port in ${ports//,/ }; do
      ip netns exec "$ns" iptables -w -t nat -A OUTPUT -d 127.0.0.1 -p tcp --dport "$port" \
        -j DNAT --to-destination "10.251.$i.1:$port"
    done
    ip netns exec "$ns" iptables -w -t nat -A POSTROUTING -s 127.0.0.1 -o "shf${i}n" -j SNAT --to-source "10.251.$i.2"
  done
  echo "services: 127.0.0.1:{$ports} of each host -> forwarder pid $(cat "$FLEET_DIR/forward.pid")"
}

down() {
  local ns i pid
  if [[ -f $FLEET_DIR/forward.pid ]]; then
    pid=$(cat "$FLEET_DIR/forward.pid")
    # only our forwarder: the pid must still be tcp_forward.py
    if grep -q tcp_forward.py "/proc/$pid/cmdline" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
  fi
  for ns in $(ns_list); do
    i=${ns#"$PREFIX"}
    if [[ -f $FLEET_DIR/sshd_$i.pid ]]; then
      pid=$(cat "$FLEET_DIR/sshd_$i.pid")
      kill "$pid" 2>/dev/null || true
    fi
    # any process still inside the namespace (session children) by its pid
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
    ip link del "shf${i}r" 2>/dev/null || true   # deletes the peer too
    ip netns del "$ns"
  done
  # stray root-side veths whose namespace is already gone
  for vr in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E '^shf[0-9]+r$' || true); do
    ip link del "$vr" 2>/dev/null || true
  done
  [[ $FLEET_DIR == /tmp/* ]] && rm -rf "$FLEET_DIR"
  echo "down"
}

status() {
  local l; l=$(ns_list)
  echo "namespaces: $(echo "$l" | wc -w) ${l//$'\n'/ }"
  echo "veths: $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -cE '^shf[0-9]+r$' || true)"
  echo "sshd in namespaces: $(for ns in $l; do ip netns pids "$ns"; done | wc -l) processes"
  if [[ -f $FLEET_DIR/forward.pid ]] && kill -0 "$(cat "$FLEET_DIR/forward.pid")" 2>/dev/null; then
    echo "forwarder: pid $(cat "$FLEET_DIR/forward.pid") ($(cat "$FLEET_DIR/forward.ready" 2>/dev/null))"
  fi
  [[ -f $FLEET_DIR/inventory.ini ]] && echo "inventory: $FLEET_DIR/inventory.ini" || true
}

case ${1:-} in
  up) up "${2:-}" "${3:-}" "${4:-}" ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up N [--services [PORTS]] | down | status" >&2; exit 2 ;;
esac
