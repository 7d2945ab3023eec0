#!/bin/bash
# How long Mosquitto takes to accept its first publish with a fleet's
# password file, for the ACL the portal exports (two pattern rules for every
# device) against the per-device user blocks it used to export.
#
#   bash bench/mosquittoacl/run.sh [devices] [old-blocks]   (defaults 100000 20000)
#
# Needs mosquitto, mosquitto_passwd and mosquitto_pub (Debian's packages).
# Results: docs/scaling.md ("Many devices on Mosquitto").
set -euo pipefail
devices=${1:-100000}
blocks=${2:-20000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
port=$(( 20000 + RANDOM % 30000 ))
mosquitto_passwd -c -b "$dir/one" dev0 secret-000
hash=$(cut -d: -f2 "$dir/one")
{ echo "portal:$hash"; for ((i = 0; i < devices; i++)); do printf 'dv%06d:%s\n' "$i" "$hash"; done; } > "$dir/passwd"
portal='user portal
topic read t/+/d/+/#
topic write t/+/d/+/cmd/#
'
printf 'pattern write t/+/d/%%u/#\npattern read t/+/d/%%u/cmd/#\n\n%s' "$portal" > "$dir/acl-pattern"
{ printf '%s\n' "$portal"; for ((i = 0; i < blocks; i++)); do
  printf 'user dv%06d\ntopic write t/acme/d/dv%06d/gauges/#\ntopic read t/acme/d/dv%06d/cmd/#\n\n' "$i" "$i" "$i"; done; } > "$dir/acl-blocks"
chmod -R a+rX "$dir"
for acl in acl-pattern acl-blocks; do
  printf 'listener %d 127.0.0.1\nallow_anonymous false\npassword_file %s/passwd\nacl_file %s/%s\npersistence false\n' \
    "$port" "$dir" "$dir" "$acl" > "$dir/m.conf"
  start=$(date +%s.%N)
  mosquitto -c "$dir/m.conf" > "$dir/m.log" 2>&1 &
  pid=$!
  until mosquitto_pub -h 127.0.0.1 -p "$port" -u dv000001 -P secret-000 -t t/acme/d/dv000001/gauges/x -m 1 2>/dev/null; do sleep 0.05; done
  end=$(date +%s.%N)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  lines=$(grep -c . "$dir/$acl")
  printf '%s (%d lines), %d users: first publish accepted after %.1f s\n' "$acl" "$lines" "$((devices + 1))" "$(echo "$end - $start" | bc)"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
