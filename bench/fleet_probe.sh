#!/usr/bin/env bash
# Feasibility probe for the issue-15 fleet bench: wall times of ansible ping and
# a trivial 5-task play over SSH to 1 vs 20 namespace hosts (bench/fleet_hosts.sh up 20
# first). Prints TSV: what, hosts, pipelining, controlpersist, run, seconds.
set -euo pipefail
FLEET_DIR=${FLEET_DIR:-/tmp/shfleet}
VENV=${VENV:-/work/main/.venv}
HERE=$(cd "$(dirname "$0")" && pwd)
RUNS=${RUNS:-3}
INV=$FLEET_DIR/inventory.ini
export ANSIBLE_CONFIG=$HERE/fleet/ansible.cfg ANSIBLE_HOST_KEY_CHECKING=true ANSIBLE_FORKS=20 \
  ANSIBLE_RETRY_FILES_ENABLED=false ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_LOCAL_TEMP=$FLEET_DIR/ltmp

now() { date +%s.%N; }
close_masters() { local s; for s in "$1"/*; do [[ -S $s ]] && ssh -o ControlPath="$s" -O exit x >/dev/null 2>&1 || true; done; }

# cp: cold = fresh ControlPath dir per run (master made and torn down inside the run);
#     warm = masters kept from a previous run (ControlPersist=60s);
#     none = ControlMaster=no (one TCP+SSH handshake per task).
run() { # what hosts pipelining cp run
  local what=$1 hosts=$2 pipe=$3 cp=$4 r=$5 lim cpd args t0 t1
  [[ $hosts == 1 ]] && lim=fleet1 || lim=fleet
  case $cp in
    none) args="-o ControlMaster=no"; cpd=$FLEET_DIR/cp-none ;;
    cold) args="-o ControlMaster=auto -o ControlPersist=60s"; cpd=$FLEET_DIR/cp-cold-$RANDOM$RANDOM ;;
    warm) args="-o ControlMaster=auto -o ControlPersist=60s"; cpd=$FLEET_DIR/cp-warm ;;
    *) args=""; cpd=$FLEET_DIR/cp-none ;;
  esac
  mkdir -p "$cpd"
  export ANSIBLE_PIPELINING=$pipe ANSIBLE_SSH_ARGS="$args" ANSIBLE_SSH_CONTROL_PATH_DIR=$cpd
  t0=$(now)
  if [[ $what == ping ]]; then
    "$VENV/bin/ansible" -i "$INV" "$lim" -m ansible.builtin.ping >"$FLEET_DIR/last.log" 2>&1
  elif [[ $what == play5 ]]; then
    "$VENV/bin/ansible-playbook" -i "$INV" -l "$lim" "$HERE/fleet/trivial5.yml" >"$FLEET_DIR/last.log" 2>&1
  else # floor: ansible start-up, local connection, no SSH
    "$VENV/bin/ansible" -i localhost, localhost -c local -e ansible_python_interpreter=/usr/bin/python3 -m ansible.builtin.ping >"$FLEET_DIR/last.log" 2>&1
  fi || { echo "FAILED $what $hosts $pipe $cp" >&2; cat "$FLEET_DIR/last.log" >&2; exit 1; }
  t1=$(now)
  [[ $cp == cold ]] && close_masters "$cpd"
  printf '%s\t%s\t%s\t%s\t%s\t%.2f\n' "$what" "$hosts" "$pipe" "$cp" "$r" "$(echo "$t1 - $t0" | bc)"
}

mkdir -p "$FLEET_DIR/ltmp"
WHATS=${WHATS:-ping play5}
CONFIGS=${CONFIGS:-false,none false,cold true,cold true,warm}
for r in $(seq "$RUNS"); do run floor 0 - - "$r"; done
for what in $WHATS; do
  for cfg in $CONFIGS; do
    cfg=${cfg/,/ }
    # shellcheck disable=SC2086 # split "what pipelining" into the two positional parameters
    set -- $cfg
    for hosts in 1 20; do
      [[ $2 == warm ]] && run "$what" "$hosts" "$1" warm 0 >/dev/null   # prime the masters
      for r in $(seq "$RUNS"); do run "$what" "$hosts" "$1" "$2" "$r"; done
    done
  done
done
close_masters "$FLEET_DIR/cp-warm"
