#!/usr/bin/env bash
# capture-interop-fixtures.sh - capture real BGP EVPN messages sent by FRR 8.4
# and by GoBGP 3 in a throw-away network-namespace lab, and write them as hex
# fixtures for the codec's round-trip tests.
#
# Usage (as root, from anywhere):
#   scripts/capture-interop-fixtures.sh [OUT_DIR]
#     OUT_DIR   default: <repo>/test/fixtures/interop
#   KEEP_WORK=1  keep the work directory (pcap, tshark output, daemon logs)
#
# Output: OUT_DIR/frr-8.4.hex, OUT_DIR/gobgp-3.hex, OUT_DIR/README.md
# Fixture format: '#' comment lines, blank lines, and one complete BGP message
# (marker, length, type, body) per line in lowercase hex.
#
# Everything the script creates is named efx-*: the namespaces efx-frr,
# efx-gobgp, efx-h10, efx-h20 (and all links inside them), /etc/frr/efx-frr,
# /var/run/frr/efx-frr and /tmp/efx-capture.*. It removes all of it on exit,
# also on failure, and removes stale leftovers of an earlier run at start.
# Only documentation address ranges are used, and only inside the namespaces.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT_DIR=${1:-$REPO/test/fixtures/interop}
PFX=efx
NS_FRR=efx-frr      # FRR (zebra + bgpd), EVPN VTEP 192.0.2.1
NS_GOBGP=efx-gobgp  # gobgpd 192.0.2.2
NS_H10=efx-h10      # host in VNI 10 (behind FRR)
NS_H20=efx-h20      # host in VNI 20 (behind FRR)
FRR_IP=192.0.2.1
GOBGP_IP=192.0.2.2
ASN=65000
API_PORT=50151      # gobgpd gRPC API, on the loopback of efx-gobgp only
FRR_ETC=/etc/frr/$NS_FRR
FRR_RUN=/var/run/frr/$NS_FRR
WAIT=${WAIT:-60}       # seconds to wait for each expected routing state
WORK=""
TCPDUMP_PID=""
GOBGPD_PID=""

log() { printf '[%s] %s\n' "$PFX" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# run: print a command, then run it
run() { log "+ $*"; "$@"; }
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
vt() { vtysh -N "$NS_FRR" "$@"; }
gb() { nsx "$NS_GOBGP" gobgp -p "$API_PORT" "$@"; }
# gba: inject/withdraw a route in gobgpd, printing the command
gba() { log "+ gobgp $*"; gb "$@"; }
# frr_cfg: apply configuration lines under 'configure terminal'
frr_cfg() {
  local args=(-c 'configure terminal') line
  for line in "$@"; do args+=(-c "$line"); done
  log "+ vtysh: $*"
  vt "${args[@]}" >/dev/null
}

# wait_for <description> <command...>: poll once a second until the command
# succeeds; fail after $WAIT seconds.
wait_for() {
  local what=$1 t=0; shift
  log "waiting for: $what"
  until "$@" >/dev/null 2>&1; do
    if ((t >= WAIT)); then log "TIMEOUT after ${WAIT}s: $what"; return 1; fi
    sleep 1; t=$((t + 1))
  done
  log "ok after ${t}s: $what"
}

# ---------------------------------------------------------------- cleanup --

kill_pid() { # kill_pid <pid>: TERM, then KILL if it does not go away
  local pid=$1 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.3; done
  kill -9 "$pid" 2>/dev/null || true
}

# teardown: remove every efx-* namespace, link, process and directory
teardown() {
  local f ns pid link
  for f in "$FRR_RUN"/bgpd.pid "$FRR_RUN"/zebra.pid; do
    [[ -f $f ]] && kill_pid "$(cat "$f")"
  done
  kill_pid "$GOBGPD_PID"
  kill_pid "$TCPDUMP_PID"
  for ns in $(ip netns list | awk '{print $1}' | grep "^$PFX-" || true); do
    # anything still running inside one of our namespaces was started by us
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill_pid "$pid"; done
    ip netns del "$ns" 2>/dev/null || log "could not delete netns $ns"
  done
  for link in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$PFX-" || true); do
    ip link del "$link" 2>/dev/null || true
  done
  rm -rf "$FRR_ETC" "$FRR_RUN"
}

on_exit() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if ((rc != 0)) && [[ -n $WORK ]]; then
    log "failed (exit $rc); last lines of the daemon logs:"
    tail -n 20 "$FRR_RUN"/frr.log "$WORK"/gobgpd.log 2>/dev/null | sed 's/^/    /' >&2
  fi
  log "cleaning up"
  teardown
  if [[ -n $WORK ]]; then
    if [[ ${KEEP_WORK:-0} == 1 ]]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
  fi
  local left
  left=$( (ip netns list; ip -o link show) | grep -c "$PFX-" || true)
  if ((left != 0)); then log "WARNING: $left $PFX-* namespaces/links left over"; fi
  exit "$rc"
}

# --------------------------------------------------------------- preflight --

((EUID == 0)) || die "run as root"
for cmd in ip bridge vtysh gobgp gobgpd tcpdump tshark node jq ping dpkg-query; do
  command -v "$cmd" >/dev/null || die "missing command: $cmd"
done
[[ -x /usr/lib/frr/zebra && -x /usr/lib/frr/bgpd ]] || die "FRR daemons not found in /usr/lib/frr"

log "removing stale leftovers of earlier runs (if any)"
teardown
rm -rf /tmp/efx-capture.*
trap on_exit EXIT
trap 'exit 130' INT TERM
WORK=$(mktemp -d /tmp/efx-capture.XXXXXX)
log "work directory: $WORK"

# ------------------------------------------------------------------- lab ---
#
#  efx-h10 --veth-- [efx-br10 + efx-vx10: VNI 10, SVI 198.51.100.1/25, 2001:db8:10::1/64]
#  efx-h20 --veth-- [efx-br20 + efx-vx20: VNI 20, no SVI]
#                   [efx-br100 + efx-vx100: L3VNI 100 of the default VRF]
#                    efx-frr  efx-f0 192.0.2.1/24 ==veth== efx-g0 192.0.2.2/24  efx-gobgp

log "creating namespaces and links"
for ns in "$NS_FRR" "$NS_GOBGP" "$NS_H10" "$NS_H20"; do
  run ip netns add "$ns"
  nsx "$ns" ip link set lo up
done

# underlay link FRR <-> gobgpd
run ip link add efx-f0 netns "$NS_FRR" type veth peer name efx-g0 netns "$NS_GOBGP"
nsx "$NS_FRR" ip addr add "$FRR_IP/24" dev efx-f0
nsx "$NS_FRR" ip link set efx-f0 up
nsx "$NS_GOBGP" ip addr add "$GOBGP_IP/24" dev efx-g0
nsx "$NS_GOBGP" ip link set efx-g0 up

f() { nsx "$NS_FRR" "$@"; } # shorthand: run in the FRR namespace

# L3VNI 100 in the default VRF (the kernel here has no VRF/dummy support):
# needed for symmetric IRB type-2 routes and type-5 routes. Its bridge's MAC
# is the router MAC. A blackhole route gives FRR a prefix to announce as type 5.
run f ip link add efx-br100 address 02:00:00:00:01:64 type bridge
run f ip link add efx-vx100 type vxlan id 100 local "$FRR_IP" dstport 4789 nolearning
f ip link set efx-vx100 master efx-br100
f ip link set efx-vx100 up
f ip link set efx-br100 up
run f ip route add blackhole 203.0.113.0/25

# L2VNI 10: bridge with SVI (IPv4 + IPv6), host efx-h10 behind it
run f ip link add efx-br10 address 02:00:00:00:01:01 type bridge
f ip addr add 198.51.100.1/25 dev efx-br10
f ip addr add 2001:db8:10::1/64 dev efx-br10 nodad
run f ip link add efx-vx10 type vxlan id 10 local "$FRR_IP" dstport 4789 nolearning
f ip link set efx-vx10 master efx-br10
run ip link add efx-h10p netns "$NS_FRR" type veth peer name efx-h10a netns "$NS_H10"
f ip link set efx-h10p master efx-br10
for l in efx-vx10 efx-h10p efx-br10; do f ip link set "$l" up; done
nsx "$NS_H10" ip link set efx-h10a address 02:00:00:00:01:0a
nsx "$NS_H10" ip addr add 198.51.100.11/25 dev efx-h10a
nsx "$NS_H10" ip addr add 2001:db8:10::11/64 dev efx-h10a nodad
nsx "$NS_H10" ip link set efx-h10a up

# L2VNI 20: bridge without SVI, host efx-h20 behind it, static MACs
run f ip link add efx-br20 address 02:00:00:00:01:02 type bridge
run f ip link add efx-vx20 type vxlan id 20 local "$FRR_IP" dstport 4789 nolearning
f ip link set efx-vx20 master efx-br20
run ip link add efx-h20p netns "$NS_FRR" type veth peer name efx-h20a netns "$NS_H20"
f ip link set efx-h20p master efx-br20
for l in efx-vx20 efx-h20p efx-br20; do f ip link set "$l" up; done
nsx "$NS_H20" ip link set efx-h20a address 02:00:00:00:01:14
nsx "$NS_H20" ip addr add 198.51.100.130/25 dev efx-h20a
nsx "$NS_H20" ip link set efx-h20a up

# --------------------------------------------------------------- capture ---

log "starting tcpdump on efx-g0 (namespace $NS_GOBGP)"
# (ip netns exec, not a shell function, so that $! is tcpdump's own pid)
ip netns exec "$NS_GOBGP" tcpdump -i efx-g0 -s 0 -U -w "$WORK/bgp.pcap" tcp port 179 \
  >"$WORK/tcpdump.log" 2>&1 &
TCPDUMP_PID=$!
wait_for "tcpdump listening" grep -q "listening on" "$WORK/tcpdump.log"

# ------------------------------------------------------------------- FRR ---

log "writing FRR config to $FRR_ETC"
mkdir -p "$FRR_ETC" "$FRR_RUN"
cp /etc/frr/daemons "$FRR_ETC/daemons"
: >"$FRR_ETC/vtysh.conf"
cat >"$FRR_ETC/frr.conf" <<EOF
frr version 8.4
frr defaults datacenter
hostname $NS_FRR
log file $FRR_RUN/frr.log informational
!
! L3VNI of the default VRF
vni 100
!
router bgp $ASN
 bgp router-id $FRR_IP
 no bgp default ipv4-unicast
 timers bgp 3 9
 neighbor $GOBGP_IP remote-as $ASN
 neighbor $GOBGP_IP update-source $FRR_IP
 neighbor $GOBGP_IP timers connect 2
 !
 address-family ipv4 unicast
  network 192.0.2.0/24
  network 203.0.113.0/25
  neighbor $GOBGP_IP activate
 exit-address-family
 !
 address-family ipv6 unicast
  network 2001:db8:10::/64
 exit-address-family
 !
 address-family l2vpn evpn
  neighbor $GOBGP_IP activate
  advertise-all-vni
  vni 10
   advertise-default-gw
  exit-vni
  advertise ipv4 unicast
  advertise ipv6 unicast
 exit-address-family
exit
!
EOF
chown -R frr:frr "$FRR_ETC" "$FRR_RUN"

log "starting zebra and bgpd in $NS_FRR"
run nsx "$NS_FRR" /usr/lib/frr/zebra -d -N "$NS_FRR" -P 0 -f "$FRR_ETC/frr.conf" -i "$FRR_RUN/zebra.pid"
wait_for "zebra vty socket" test -S "$FRR_RUN/zebra.vty"
run nsx "$NS_FRR" /usr/lib/frr/bgpd -d -N "$NS_FRR" -P 0 -f "$FRR_ETC/frr.conf" -i "$FRR_RUN/bgpd.pid"
wait_for "bgpd vty socket" test -S "$FRR_RUN/bgpd.vty"

# ---------------------------------------------------------------- gobgpd ---

log "starting gobgpd in $NS_GOBGP (passive, so there is exactly one TCP session)"
cat >"$WORK/gobgpd.toml" <<EOF
[global.config]
  as = $ASN
  router-id = "$GOBGP_IP"
  local-address-list = ["$GOBGP_IP"]

[[neighbors]]
  [neighbors.config]
    neighbor-address = "$FRR_IP"
    peer-as = $ASN
  [neighbors.timers.config]
    hold-time = 9
    keepalive-interval = 3
    connect-retry = 2
  [neighbors.transport.config]
    passive-mode = true
    local-address = "$GOBGP_IP"
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = 30
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "l2vpn-evpn"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
EOF
ip netns exec "$NS_GOBGP" gobgpd -f "$WORK/gobgpd.toml" --api-hosts "127.0.0.1:$API_PORT" \
  -p --pprof-disable >"$WORK/gobgpd.log" 2>&1 &
GOBGPD_PID=$!
wait_for "gobgpd API" gb global


# ------------------------------------------------------- state checks ---

session_up() { gb neighbor "$FRR_IP" | grep -qi "BGP state = established"; }
session_down() { ! session_up; }
# gobgp_rib: what gobgpd received from FRR (gobgp's text rendering)
gobgp_rib() { gb neighbor "$FRR_IP" adj-in -a evpn; gb neighbor "$FRR_IP" adj-in -a ipv4; }
# gobgp_has <pattern...>: every pattern is in what gobgpd received from FRR
gobgp_has() {
  local rib p
  rib=$(gobgp_rib)
  for p in "$@"; do grep -qF -- "$p" <<<"$rib" || return 1; done
}
# gobgp_lacks <pattern...>: none of the patterns is there (any more)
gobgp_lacks() {
  local rib p
  rib=$(gobgp_rib)
  for p in "$@"; do if grep -qF -- "$p" <<<"$rib"; then return 1; fi; done
}
# frr_has <pattern...>: every pattern is in FRR's EVPN table (FRR's rendering)
frr_has() {
  local rib p
  rib=$(vt -c "show bgp l2vpn evpn route")
  for p in "$@"; do grep -qF -- "$p" <<<"$rib" || return 1; done
}
# frr_rcvd_is <afi safi> <n>: FRR holds n prefixes received from gobgpd
frr_rcvd_is() {
  [[ $(vt -c "show bgp $1 summary json" | jq -r ".peers[\"$GOBGP_IP\"].pfxRcd // -1") == "$2" ]]
}
# frr_mac_is <mac> <local|remote>: zebra's view of a MAC in VNI 10
frr_mac_is() { vt -c "show evpn mac vni 10" | grep -q "^$1 *$2 "; }

wait_for "BGP session established" session_up

# ---------------------------------------------- FRR: local MACs and IPs ---

log "letting FRR learn MACs and neighbours (host traffic, static fdb entries)"
run nsx "$NS_H10" ping -c 2 -i 0.2 198.51.100.1 >/dev/null
run nsx "$NS_H10" ping -c 2 -i 0.2 2001:db8:10::1 >/dev/null
# no SVI in VNI 20: the ARP broadcast is enough for the bridge to learn the MAC
run nsx "$NS_H20" ping -c 2 -i 0.2 198.51.100.131 >/dev/null || true
run f bridge fdb add 02:00:00:00:14:01 dev efx-h20p master static        # FRR: plain
run f bridge fdb add 02:00:00:00:14:02 dev efx-h20p master static sticky # FRR: sticky

# ---------------------------------------------- gobgpd: injected routes ---
# (gobgp 3.10's CLI has no MAC Mobility/sticky option; 'default-gateway' and
# 'esi-label ... single-active' do not parse together with the other options)

log "injecting routes into gobgpd"
EV=(global rib -a evpn add)
NH=(nexthop "$GOBGP_IP")
# type 3 inclusive multicast with PMSI ingress replication, VNI 10 and 20
gba "${EV[@]}" multicast "$GOBGP_IP" etag 0 rd "$GOBGP_IP:10" rt "$ASN:10" encap vxlan \
  pmsi ingress-repl 10 "$GOBGP_IP" "${NH[@]}"
gba "${EV[@]}" multicast "$GOBGP_IP" etag 0 rd "$GOBGP_IP:20" rt "$ASN:20" encap vxlan \
  pmsi ingress-repl 20 "$GOBGP_IP" "${NH[@]}"
# type 2 MAC/IP: IPv4, MAC only, IPv6, two RTs, ESI type 1 (LACP) and type 0,
# router MAC
gba "${EV[@]}" macadv 02:00:00:00:02:01 198.51.100.21 etag 0 label 10 rd "$GOBGP_IP:10" \
  rt "$ASN:10" encap vxlan "${NH[@]}"
gba "${EV[@]}" macadv 02:00:00:00:02:02 0.0.0.0 etag 0 label 10 rd "$GOBGP_IP:10" \
  rt "$ASN:10" encap vxlan "${NH[@]}"
gba "${EV[@]}" macadv 02:00:00:00:02:03 2001:db8:10::23 etag 0 label 10 rd "$GOBGP_IP:10" \
  rt "$ASN:10" encap vxlan "${NH[@]}"
gba "${EV[@]}" macadv 02:00:00:00:02:04 198.51.100.24 etag 0 label 10 rd "$GOBGP_IP:10" \
  rt "$ASN:10" "$ASN:20" encap vxlan "${NH[@]}"
gba "${EV[@]}" macadv 02:00:00:00:02:05 198.51.100.25 esi lacp 02:00:00:00:00:aa 1 etag 0 \
  label 10 rd "$GOBGP_IP:10" rt "$ASN:10" encap vxlan "${NH[@]}"
gba "${EV[@]}" macadv 02:00:00:00:02:06 0.0.0.0 esi arbitrary 11:22:33:44:55:66:77:88:99 \
  etag 0 label 20 rd "$GOBGP_IP:20" rt "$ASN:20" encap vxlan "${NH[@]}"
gba "${EV[@]}" macadv 02:00:00:00:02:fe 198.51.100.126 etag 0 label 10 rd "$GOBGP_IP:10" \
  rt "$ASN:10" encap vxlan router-mac 02:00:00:00:02:fe "${NH[@]}"
# type 5 IP prefix (IPv4 and IPv6) in L3VNI 100
gba "${EV[@]}" prefix 203.0.113.128/25 gw 0.0.0.0 etag 0 label 100 rd "$GOBGP_IP:100" \
  rt "$ASN:100" encap vxlan router-mac 02:00:00:00:02:fe "${NH[@]}"
gba "${EV[@]}" prefix 2001:db8:20::/64 gw :: etag 0 label 100 rd "$GOBGP_IP:100" \
  rt "$ASN:100" encap vxlan router-mac 02:00:00:00:02:fe "${NH[@]}"
# type 1 Ethernet A-D (per ES with ESI label, and per EVI) and type 4 ES route
gba "${EV[@]}" a-d esi lacp 02:00:00:00:00:aa 1 etag 4294967295 label 0 rd "$GOBGP_IP:1" \
  rt "$ASN:10" encap vxlan esi-label 100 "${NH[@]}"
gba "${EV[@]}" a-d esi lacp 02:00:00:00:00:aa 1 etag 0 label 10 rd "$GOBGP_IP:10" \
  rt "$ASN:10" encap vxlan "${NH[@]}"
gba "${EV[@]}" esi "$GOBGP_IP" esi lacp 02:00:00:00:00:aa 1 rd "$GOBGP_IP:1" \
  encap vxlan "${NH[@]}"
# plain IPv4 unicast (one with MED, LOCAL_PREF and a community)
gba global rib -a ipv4 add 203.0.113.192/26 nexthop "$GOBGP_IP" med 10 local-pref 200 \
  community 65000:100
gba global rib -a ipv4 add 203.0.113.224/27 nexthop "$GOBGP_IP"
GOBGP_EVPN=14 # routes gobgpd now announces, per address family
GOBGP_IPV4=2

# ------------------------------------------------- wait for the exchange ---

# What FRR must have announced, as gobgpd renders it. (gobgp 3.10 treats FRR's
# routes carrying the EVPN ND extended community - the SVI's IPv6 addresses -
# as withdrawn, "unknown evpn subtype: 8", so those are checked on FRR's side.)
FRR_SENT=(
  "[type:multicast][rd:$FRR_IP:"                  # type 3
  "[mac:02:00:00:00:01:0a][ip:<nil>]"             # host h10: MAC only
  "[mac:02:00:00:00:01:0a][ip:198.51.100.11]"     # host h10: MAC + IPv4
  "[mac:02:00:00:00:01:0a][ip:2001:db8:10::11]"   # host h10: MAC + IPv6
  "[mac:02:00:00:00:01:01][ip:198.51.100.1]"      # SVI, default gateway
  "[mac:02:00:00:00:01:14][ip:<nil>]"             # host h20 (VNI 20)
  "[mac:02:00:00:00:14:01][ip:<nil>]"             # static MAC
  "[mac:02:00:00:00:14:02][ip:<nil>]"             # static sticky MAC
  "[prefix:203.0.113.0/25]"                       # type 5 IPv4
  "[prefix:2001:db8:10::/64]"                     # type 5 IPv6
  "192.0.2.0/24"                                  # IPv4 unicast
  "203.0.113.0/25 "                               # IPv4 unicast
)
FRR_LOCAL=("[02:00:00:00:01:01]:[128]:[2001:db8:10::1]") # SVI IPv6, ND community
wait_for "FRR's routes in gobgpd" gobgp_has "${FRR_SENT[@]}"
wait_for "FRR's IPv6 SVI route in FRR" frr_has "${FRR_LOCAL[@]}"
wait_for "gobgpd's $GOBGP_EVPN EVPN routes in FRR" frr_rcvd_is "l2vpn evpn" "$GOBGP_EVPN"
wait_for "gobgpd's $GOBGP_IPV4 IPv4 routes in FRR" frr_rcvd_is "ipv4 unicast" "$GOBGP_IPV4"

# ------------------------------------------------------------ MAC moves ---

log "MAC mobility 1: gobgpd announces host h10's MAC/IP too (gobgpd adds MAC Mobility seq 0)"
gba "${EV[@]}" macadv 02:00:00:00:01:0a 198.51.100.11 etag 0 label 10 rd "$GOBGP_IP:10" \
  rt "$ASN:10" encap vxlan "${NH[@]}"
GOBGP_EVPN=$((GOBGP_EVPN + 1))
wait_for "h10's MAC/IP from gobgpd in FRR" frr_rcvd_is "l2vpn evpn" "$GOBGP_EVPN"

log "MAC mobility 2: a MAC moves from gobgpd's VTEP to FRR's and back"
gba "${EV[@]}" macadv 02:00:00:00:01:0b 0.0.0.0 etag 0 label 10 rd "$GOBGP_IP:10" \
  rt "$ASN:10" encap vxlan "${NH[@]}"
wait_for "FRR sees 02:00:00:00:01:0b as remote" frr_mac_is 02:00:00:00:01:0b remote
# the MAC appears locally on FRR: FRR announces it with MAC Mobility seq 1,
# gobgpd withdraws its own, older route
run f bridge fdb replace 02:00:00:00:01:0b dev efx-h10p master static
wait_for "FRR announces the moved MAC with MAC Mobility seq 1" \
  gobgp_has "[mac:02:00:00:00:01:0b][ip:<nil>]"
# gobgpd announces it again: seq 2 (one higher than FRR's); FRR withdraws
gba "${EV[@]}" macadv 02:00:00:00:01:0b 0.0.0.0 etag 0 label 10 rd "$GOBGP_IP:10" \
  rt "$ASN:10" encap vxlan "${NH[@]}"
wait_for "FRR withdraws the moved-back MAC" gobgp_lacks "[mac:02:00:00:00:01:0b]"
GOBGP_EVPN=$((GOBGP_EVPN + 1))
wait_for "gobgpd's $GOBGP_EVPN EVPN routes in FRR" frr_rcvd_is "l2vpn evpn" "$GOBGP_EVPN"

# ---------------------------------------------------------- withdrawals ---

log "withdrawing routes on both sides"
DEL=(global rib -a evpn del)
gba "${DEL[@]}" macadv 02:00:00:00:02:02 0.0.0.0 etag 0 label 10 rd "$GOBGP_IP:10"
gba "${DEL[@]}" macadv 02:00:00:00:02:03 2001:db8:10::23 etag 0 label 10 rd "$GOBGP_IP:10"
gba "${DEL[@]}" multicast "$GOBGP_IP" etag 0 rd "$GOBGP_IP:20"
gba "${DEL[@]}" prefix 2001:db8:20::/64 gw :: etag 0 label 100 rd "$GOBGP_IP:100"
gba "${DEL[@]}" a-d esi lacp 02:00:00:00:00:aa 1 etag 0 label 10 rd "$GOBGP_IP:10"
gba global rib -a ipv4 del 203.0.113.224/27
GOBGP_EVPN=$((GOBGP_EVPN - 5))
GOBGP_IPV4=$((GOBGP_IPV4 - 1))

run f bridge fdb del 02:00:00:00:14:01 dev efx-h20p master   # one type 2
frr_cfg "router bgp $ASN" "address-family ipv4 unicast" "no network 203.0.113.0/25" # ipv4 + type 5
run f ip link set efx-vx20 down # VNI 20 goes away: its type 3 and type 2 routes

wait_for "gobgpd's EVPN withdrawals in FRR" frr_rcvd_is "l2vpn evpn" "$GOBGP_EVPN"
wait_for "gobgpd's IPv4 withdrawal in FRR" frr_rcvd_is "ipv4 unicast" "$GOBGP_IPV4"
wait_for "FRR's withdrawals in gobgpd" gobgp_lacks "[mac:02:00:00:00:14:01]" \
  "[mac:02:00:00:00:01:14]" "[prefix:203.0.113.0/25]" "203.0.113.0/25 "

# ------------------------------------ route refresh, NOTIFICATIONs, end ---

log "FRR asks gobgpd for a route refresh"
run vt -c "clear bgp $GOBGP_IP soft in" >/dev/null
sleep 4 # time for gobgpd's answer and a few KEEPALIVEs

log "FRR shuts the session down (Cease NOTIFICATION with a shutdown message)"
frr_cfg "router bgp $ASN" "neighbor $GOBGP_IP shutdown message efx fixture capture, FRR side"
wait_for "session down" session_down

log "second session, ended by gobgpd (Cease NOTIFICATION from gobgpd)"
frr_cfg "router bgp $ASN" "no neighbor $GOBGP_IP shutdown"
wait_for "BGP session established again" session_up
wait_for "gobgpd's routes in FRR again" frr_rcvd_is "l2vpn evpn" "$GOBGP_EVPN"
sleep 2
# ('shutdown' is deprecated in favour of 'disable', but only 'shutdown' puts
# the --reason text into the NOTIFICATION)
gba neighbor "$FRR_IP" shutdown --reason "efx fixture capture, gobgp side"
wait_for "session down" session_down
sleep 1

log "stopping tcpdump"
kill_pid "$TCPDUMP_PID"
TCPDUMP_PID=""

# ----------------------------------------------------------- extraction ---
# tshark 4.0's "follow,tcp,raw" output does not mark the direction reliably
# (gobgpd's OPEN came out untabbed, as if FRR had sent it), so the payload is taken
# per segment with its raw sequence number and reassembled per direction here;
# retransmitted or overlapping bytes are checked for equality and dropped.

log "extracting the TCP payload per direction"
tshark -r "$WORK/bgp.pcap" -o tcp.desegment_tcp_streams:FALSE -Y "tcp.len > 0" \
  -T fields -E separator=/t -e tcp.stream -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport \
  -e tcp.seq_raw -e tcp.payload >"$WORK/segments.tsv" 2>"$WORK/tshark.log"
# tshark's own BGP dissection, per sender, to cross-check the message counts
tshark -r "$WORK/bgp.pcap" -Y bgp -T fields -E separator=/t -e ip.src -e bgp.type \
  >"$WORK/bgp-types.tsv" 2>>"$WORK/tshark.log"

# bgpfix.mjs: split the byte streams into BGP messages, describe them, write
# the fixtures ("extract"), or re-check written fixtures ("verify")
cat >"$WORK/bgpfix.mjs" <<'NODE_EOF'
import { readFileSync, writeFileSync } from "node:fs";

const TYPES = { 1: "OPEN", 2: "UPDATE", 3: "NOTIFICATION", 4: "KEEPALIVE", 5: "ROUTE-REFRESH" };
const AFI = { 1: "ipv4", 2: "ipv6", 25: "l2vpn" };
const SAFI = { 1: "unicast", 2: "multicast", 70: "evpn", 128: "vpn" };
const fam = (a, s) => `${AFI[a] ?? `afi${a}`}-${SAFI[s] ?? `safi${s}`}`;
const hex = (b) => Buffer.from(b).toString("hex");
const mac = (b) => [...b].map((x) => x.toString(16).padStart(2, "0")).join(":");
const isZero = (b) => b.every((x) => x === 0);

function ip(b) {
  if (b.length === 4) return [...b].join(".");
  if (b.length !== 16) return `?${hex(b)}`;
  const g = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i).toString(16));
  let best = -1, bestLen = 1; // longest run (>= 2) of zero groups becomes "::"
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && g[j] === "0") j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
  }
  if (best < 0) return g.join(":");
  return `${g.slice(0, best).join(":")}::${g.slice(best + bestLen).join(":")}`;
}

function rd(b) {
  const t = b.readUInt16BE(0);
  if (t === 0) return `${b.readUInt16BE(2)}:${b.readUInt32BE(4)}`;
  if (t === 1) return `${ip(b.subarray(2, 6))}:${b.readUInt16BE(6)}`;
  if (t === 2) return `${b.readUInt32BE(2)}:${b.readUInt16BE(6)}`;
  return `type${t}:${hex(b.subarray(2))}`;
}

// split a byte stream into complete BGP messages; throws on bad framing
function split(buf, what) {
  const out = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < 19) throw new Error(`${what}: ${buf.length - off} stray bytes at ${off}`);
    for (let i = 0; i < 16; i++) {
      if (buf[off + i] !== 0xff) throw new Error(`${what}: bad marker at offset ${off}`);
    }
    const len = buf.readUInt16BE(off + 16);
    if (len < 19 || len > 4096) throw new Error(`${what}: bad length ${len} at offset ${off}`);
    if (off + len > buf.length) throw new Error(`${what}: truncated message at offset ${off}`);
    out.push(buf.subarray(off, off + len));
    off += len;
  }
  return out;
}

// ---- descriptions (comment lines only; the hex is the raw capture) ----

function evpnRoute(type, v, feat) {
  const esiOf = (b) => (isZero(b) ? "" : ` esi ${mac(b)}`);
  const labels = (b) => {
    const l = [];
    for (let i = 0; i + 3 <= b.length; i += 3) l.push(b.readUIntBE(i, 3));
    return l.length ? ` label ${l.join(",")}` : "";
  };
  const r = rd(v.subarray(0, 8));
  switch (type) {
    case 1: {
      const esi = v.subarray(8, 18);
      if (!isZero(esi)) feat.add("ESI (non-zero)");
      return `type-1 rd ${r}${esiOf(esi)} etag ${v.readUInt32BE(18)}${labels(v.subarray(22))}`;
    }
    case 2: {
      const esi = v.subarray(8, 18);
      const ipBytes = v[29] / 8;
      const addr = v.subarray(30, 30 + ipBytes);
      const lab = v.subarray(30 + ipBytes);
      if (!isZero(esi)) feat.add("ESI (non-zero)");
      feat.add(ipBytes === 0 ? "type-2 MAC only" : ipBytes === 4 ? "type-2 MAC+IPv4" : "type-2 MAC+IPv6");
      if (ipBytes === 16 && addr[0] === 0xfe && (addr[1] & 0xc0) === 0x80) feat.add("type-2 IPv6 link-local");
      if (lab.length === 6) feat.add("type-2 with two labels (L2 VNI + L3 VNI)");
      const ipTxt = ipBytes ? ` ip ${ip(addr)}` : "";
      return `type-2 rd ${r}${esiOf(esi)} etag ${v.readUInt32BE(18)} mac ${mac(v.subarray(23, 29))}${ipTxt}${labels(lab)}`;
    }
    case 3:
      return `type-3 rd ${r} etag ${v.readUInt32BE(8)} orig ${ip(v.subarray(13, 13 + v[12] / 8))}`;
    case 4: {
      const esi = v.subarray(8, 18);
      if (!isZero(esi)) feat.add("ESI (non-zero)");
      return `type-4 rd ${r}${esiOf(esi)} orig ${ip(v.subarray(19, 19 + v[18] / 8))}`;
    }
    case 5: {
      const esi = v.subarray(8, 18);
      const n = (v.length - 26) / 2; // 4 (IPv4) or 16 (IPv6)
      const gw = v.subarray(23 + n, 23 + 2 * n);
      feat.add(n === 4 ? "type-5 IPv4 prefix" : "type-5 IPv6 prefix");
      if (!isZero(esi)) feat.add("ESI (non-zero)");
      if (!isZero(gw)) feat.add("type-5 gateway IP");
      return `type-5 rd ${r}${esiOf(esi)} etag ${v.readUInt32BE(18)} prefix ${ip(v.subarray(23, 23 + n))}/${v[22]} gw ${ip(gw)}${labels(v.subarray(23 + 2 * n))}`;
    }
    default:
      return `type-${type} (${v.length} bytes)`;
  }
}

function evpnNlri(b, feat, types) {
  const out = [];
  for (let off = 0; off < b.length; ) {
    const type = b[off];
    const v = b.subarray(off + 2, off + 2 + b[off + 1]);
    off += 2 + b[off + 1];
    types.push(type);
    out.push(evpnRoute(type, v, feat));
  }
  return out;
}

function ipv4Nlri(b) {
  const out = [];
  for (let off = 0; off < b.length; ) {
    const bits = b[off];
    const n = Math.ceil(bits / 8);
    const a = Buffer.alloc(4);
    b.copy(a, 0, off + 1, off + 1 + n);
    out.push(`${ip(a)}/${bits}`);
    off += 1 + n;
  }
  return out;
}

function extComm(b, feat, stats) {
  const [t, s] = b;
  if ((t === 0x00 || t === 0x40) && s === 0x02) return `RT ${b.readUInt16BE(2)}:${b.readUInt32BE(4)}`;
  if (t === 0x01 && s === 0x02) return `RT ${ip(b.subarray(2, 6))}:${b.readUInt16BE(6)}`;
  if (t === 0x02 && s === 0x02) return `RT ${b.readUInt32BE(2)}:${b.readUInt16BE(6)}`;
  if (t === 0x03 && s === 0x0c) {
    const tt = b.readUInt16BE(6);
    return `encap ${tt === 8 ? "VXLAN" : tt}`;
  }
  if (t === 0x03 && s === 0x0d) return feat.add("default gateway ext community"), "default-gateway";
  if (t === 0x06 && s === 0x00) {
    feat.add("MAC Mobility ext community");
    if (b[2] & 1) feat.add("MAC Mobility sticky");
    stats.mmSeq.add(`${b.readUInt32BE(4)}${b[2] & 1 ? " (sticky)" : ""}`);
    return `MAC-mobility seq ${b.readUInt32BE(4)}${b[2] & 1 ? " sticky" : ""}`;
  }
  if (t === 0x06 && s === 0x01) {
    feat.add("ESI label ext community");
    return `ESI-label ${b.readUIntBE(5, 3)} ${b[2] & 1 ? "single-active" : "all-active"}`;
  }
  if (t === 0x06 && s === 0x02) return feat.add("ES-import RT ext community"), `ES-import ${mac(b.subarray(2, 8))}`;
  if (t === 0x06 && s === 0x03) return feat.add("router MAC ext community"), `router-MAC ${mac(b.subarray(2, 8))}`;
  if (t === 0x06 && s === 0x08) return feat.add("EVPN ND ext community (subtype 8)"), `ND flags 0x${b[2].toString(16)}`;
  return `ext ${hex(b)}`;
}

const ORIGIN = ["IGP", "EGP", "INCOMPLETE"];

function describeUpdate(m, feat, stats) {
  const lines = [];
  const parts = [];
  const attrs = [];
  const wLen = m.readUInt16BE(19);
  const withdrawn = ipv4Nlri(m.subarray(21, 21 + wLen));
  const aOff = 21 + wLen + 2;
  const aLen = m.readUInt16BE(21 + wLen);
  const nlri = ipv4Nlri(m.subarray(aOff + aLen));
  if (withdrawn.length) {
    parts.push(`withdraw ipv4-unicast x${withdrawn.length}`);
    for (const p of withdrawn) lines.push(`#   - ipv4 ${p}`);
    stats.ipv4Withdrawn += withdrawn.length;
    feat.add("IPv4 unicast withdrawal");
  }
  let onlyEor = null;
  for (let off = aOff; off < aOff + aLen; ) {
    const flags = m[off];
    const code = m[off + 1];
    const ext = flags & 0x10;
    const len = ext ? m.readUInt16BE(off + 2) : m[off + 2];
    const v = m.subarray(off + (ext ? 4 : 3), off + (ext ? 4 : 3) + len);
    off += (ext ? 4 : 3) + len;
    switch (code) {
      case 1: attrs.push(`ORIGIN ${ORIGIN[v[0]] ?? v[0]}`); break;
      case 2: attrs.push(`AS_PATH ${v.length ? hex(v) : "empty"}`); break;
      case 3: attrs.push(`NEXT_HOP ${ip(v)}`); break;
      case 4: attrs.push(`MED ${v.readUInt32BE(0)}`); break;
      case 5: attrs.push(`LOCAL_PREF ${v.readUInt32BE(0)}`); break;
      case 9: attrs.push(`ORIGINATOR_ID ${ip(v)}`); feat.add("ORIGINATOR_ID attribute"); break;
      case 10: {
        const c = [];
        for (let i = 0; i < v.length; i += 4) c.push(ip(v.subarray(i, i + 4)));
        attrs.push(`CLUSTER_LIST ${c.join(" ")}`);
        feat.add("CLUSTER_LIST attribute");
        break;
      }
      case 8: {
        const c = [];
        for (let i = 0; i < v.length; i += 4) c.push(`${v.readUInt16BE(i)}:${v.readUInt16BE(i + 2)}`);
        attrs.push(`COMMUNITIES ${c.join(" ")}`);
        feat.add("COMMUNITIES attribute");
        break;
      }
      case 14: {
        const afi = v.readUInt16BE(0);
        const safi = v[2];
        const nhLen = v[3];
        const nh = v.subarray(4, 4 + nhLen);
        const nl = v.subarray(5 + nhLen);
        const f = fam(afi, safi);
        if (afi === 25 && safi === 70) {
          const types = [];
          const routes = evpnNlri(nl, feat, types);
          for (const t of types) stats.evpnAnnounced[t] = (stats.evpnAnnounced[t] ?? 0) + 1;
          parts.push(`MP_REACH ${f} nh ${ip(nh)}: ${countTypes(types)}`);
          for (const r of routes) lines.push(`#   + ${r}`);
        } else {
          parts.push(`MP_REACH ${f} nh ${nhLen === 4 || nhLen === 16 ? ip(nh) : hex(nh)}: ${nl.length} bytes NLRI`);
        }
        break;
      }
      case 15: {
        const afi = v.readUInt16BE(0);
        const safi = v[2];
        const nl = v.subarray(3);
        const f = fam(afi, safi);
        if (nl.length === 0) {
          onlyEor = f;
        } else if (afi === 25 && safi === 70) {
          const types = [];
          const routes = evpnNlri(nl, feat, types);
          for (const t of types) stats.evpnWithdrawn[t] = (stats.evpnWithdrawn[t] ?? 0) + 1;
          parts.push(`MP_UNREACH ${f}: withdraw ${countTypes(types)}`);
          for (const r of routes) lines.push(`#   - ${r}`);
          feat.add("EVPN withdrawal (MP_UNREACH)");
        } else {
          parts.push(`MP_UNREACH ${f}: ${nl.length} bytes NLRI`);
        }
        break;
      }
      case 16: {
        const c = [];
        let rts = 0;
        for (let i = 0; i + 8 <= v.length; i += 8) {
          const s = extComm(v.subarray(i, i + 8), feat, stats);
          if (s.startsWith("RT ")) rts++;
          c.push(s);
        }
        if (rts > 1) feat.add("several route targets");
        attrs.push(`EXT_COMMUNITIES ${c.join(", ")}`);
        break;
      }
      case 22: {
        const tt = v[1];
        feat.add("PMSI tunnel attribute");
        const tun = tt === 6 ? "ingress-replication" : `tunnel-type ${tt}`;
        attrs.push(`PMSI ${tun} label ${v.readUIntBE(2, 3)} tunnel ${ip(v.subarray(5))}`);
        break;
      }
      default:
        attrs.push(`attr ${code} (${len} bytes)`);
        feat.add(`path attribute ${code}`);
    }
  }
  if (nlri.length) {
    parts.push(`ipv4-unicast x${nlri.length}`);
    for (const p of nlri) lines.push(`#   + ipv4 ${p}`);
    stats.ipv4Announced += nlri.length;
  }
  let head;
  if (!withdrawn.length && !aLen && !nlri.length) head = "End-of-RIB ipv4-unicast";
  else if (onlyEor && !parts.length) head = `End-of-RIB ${onlyEor}`;
  else head = parts.join("; ");
  if (head.startsWith("End-of-RIB")) feat.add(head);
  if (attrs.length) lines.unshift(`#   attrs: ${attrs.join("; ")}`);
  return [head, lines];
}

function countTypes(types) {
  const c = {};
  for (const t of types) c[t] = (c[t] ?? 0) + 1;
  const list = Object.entries(c).map(([t, n]) => `type-${t} x${n}`);
  return `${types.length} NLRI (${list.join(", ")})`;
}

const CAPS = { 1: "MP", 2: "route-refresh", 5: "extended-nexthop", 6: "extended-message", 9: "role",
  64: "graceful-restart", 65: "4-octet-AS", 69: "add-path", 70: "enhanced-route-refresh",
  71: "long-lived-GR", 73: "FQDN", 128: "route-refresh(old)" };

function describeOpen(m) {
  const caps = [];
  const optLen = m[28];
  for (let off = 29; off < 29 + optLen; ) {
    const pType = m[off];
    const pLen = m[off + 1];
    const p = m.subarray(off + 2, off + 2 + pLen);
    off += 2 + pLen;
    if (pType !== 2) { caps.push(`param ${pType}`); continue; }
    for (let c = 0; c < p.length; ) {
      const code = p[c];
      const v = p.subarray(c + 2, c + 2 + p[c + 1]);
      c += 2 + p[c + 1];
      let s = CAPS[code] ?? `cap ${code}`;
      if (code === 1) s += ` ${fam(v.readUInt16BE(0), v[3])}`;
      if (code === 65) s += ` ${v.readUInt32BE(0)}`;
      if (code === 73 && v.length) s += ` "${v.subarray(1, 1 + v[0]).toString()}"`;
      if (code === 64) s += ` time ${v.readUInt16BE(0) & 0xfff}`;
      if (code === 5) {
        const l = [];
        for (let i = 0; i + 6 <= v.length; i += 6) {
          l.push(`${fam(v.readUInt16BE(i), v.readUInt16BE(i + 2))}/nh-${AFI[v.readUInt16BE(i + 4)]}`);
        }
        s += ` ${l.join(",")}`;
      }
      caps.push(s);
    }
  }
  return `v${m[19]} AS ${m.readUInt16BE(20)} hold ${m.readUInt16BE(22)} id ${ip(m.subarray(24, 28))}; capabilities: ${caps.join(", ")}`;
}

function describeNotification(m) {
  const code = m[19];
  const sub = m[20];
  const data = m.subarray(21);
  const names = { "6/2": "Cease/Administrative Shutdown", "6/4": "Cease/Administrative Reset" };
  let s = `${names[`${code}/${sub}`] ?? `code ${code} subcode ${sub}`}`;
  if (code === 6 && (sub === 2 || sub === 4) && data.length) {
    s += ` message "${data.subarray(1, 1 + data[0]).toString("utf8")}"`;
  } else if (data.length) {
    s += ` data ${hex(data)}`;
  }
  return s;
}

function describe(m, feat, stats) {
  const type = m[18];
  const name = TYPES[type] ?? `TYPE-${type}`;
  switch (type) {
    case 1: return [`${name} ${describeOpen(m)}`, []];
    case 2: { const [h, l] = describeUpdate(m, feat, stats); return [`${name} ${h}`, l]; }
    case 3: feat.add("NOTIFICATION"); return [`${name} ${describeNotification(m)}`, []];
    case 5: {
      feat.add("ROUTE-REFRESH");
      const st = ["request", "BoRR", "EoRR"][m[21]] ?? m[21];
      return [`${name} ${fam(m.readUInt16BE(19), m[22])} (${st})`, []];
    }
    default: return [name, []];
  }
}

// ---- extract: reassemble, split, dedupe, write ----

function extract(segFile, typesFile, outDir, speakers) {
  // per (TCP stream, sender): segments with their raw sequence numbers
  const flows = new Map();
  const conns = new Map(); // TCP stream number -> "client -> server"
  for (const line of readFileSync(segFile, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const [stream, src, port, dst, dport, seq, payload] = line.split("\t");
    const key = `${stream}\t${src}`;
    if (!flows.has(key)) flows.set(key, { stream: Number(stream), src, port, segs: [] });
    // connection label: client (the side not on port 179) first
    const label = port === "179" ? `${dst}:${dport} -> ${src}:${port}` : `${src}:${port} -> ${dst}:${dport}`;
    conns.set(Number(stream), label);
    flows.get(key).segs.push({ seq: Number(seq), data: Buffer.from(payload.replace(/:/g, ""), "hex") });
  }
  const perSpeaker = new Map(); // ip -> [{session, msg}]
  for (const f of [...flows.values()].sort((a, b) => a.stream - b.stream)) {
    const base = f.segs[0].seq; // first data byte seen (the capture starts before the session)
    let buf = Buffer.alloc(0);
    let dup = 0;
    for (const s of f.segs
      .map((s) => ({ ...s, off: (s.seq - base + 2 ** 32) % 2 ** 32 }))
      .sort((a, b) => a.off - b.off)) {
      if (s.off > buf.length) throw new Error(`stream ${f.stream} ${f.src}: gap at byte ${buf.length}`);
      const overlap = Math.min(buf.length - s.off, s.data.length);
      if (!s.data.subarray(0, overlap).equals(buf.subarray(s.off, s.off + overlap))) {
        throw new Error(`stream ${f.stream} ${f.src}: retransmitted bytes differ`);
      }
      dup += overlap;
      buf = Buffer.concat([buf, s.data.subarray(overlap)]);
    }
    const msgs = split(buf, `stream ${f.stream} from ${f.src}`);
    console.log(`stream ${f.stream} from ${f.src}:${f.port}: ${buf.length} bytes, ${msgs.length} BGP messages` +
      (dup ? `, ${dup} retransmitted bytes dropped` : ""));
    if (!perSpeaker.has(f.src)) perSpeaker.set(f.src, []);
    for (const msg of msgs) perSpeaker.get(f.src).push({ session: f.stream, msg });
  }

  // cross-check against tshark's own BGP dissector: messages per sender and type
  const tshark = {};
  for (const line of readFileSync(typesFile, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const [src, types] = line.split("\t");
    for (const t of types.split(",")) tshark[`${src} ${t}`] = (tshark[`${src} ${t}`] ?? 0) + 1;
  }
  const mine = {};
  for (const [src, list] of perSpeaker) {
    for (const { msg } of list) mine[`${src} ${msg[18]}`] = (mine[`${src} ${msg[18]}`] ?? 0) + 1;
  }
  const keys = new Set([...Object.keys(tshark), ...Object.keys(mine)]);
  for (const k of keys) {
    if (tshark[k] !== mine[k]) throw new Error(`count mismatch for ${k}: tshark ${tshark[k]}, reassembly ${mine[k]}`);
  }
  console.log("message counts per sender and type agree with tshark's BGP dissector");

  const summary = [];
  for (const sp of speakers) {
    const list = perSpeaker.get(sp.ip) ?? [];
    if (!list.length) throw new Error(`no messages from ${sp.ip}`);
    const feat = new Set();
    const stats = { evpnAnnounced: {}, evpnWithdrawn: {}, ipv4Announced: 0, ipv4Withdrawn: 0, mmSeq: new Set() };
    const seen = new Map(); // hex -> {count, entry}
    const entries = [];
    const counts = {};
    let session = -1;
    let marker = null;
    for (const { session: s, msg } of list) {
      const h = hex(msg);
      const tn = TYPES[msg[18]] ?? `TYPE-${msg[18]}`;
      counts[tn] ??= { sent: 0, unique: 0 };
      counts[tn].sent++;
      if (s !== session) {
        session = s;
        marker = { marker: `# ===== TCP connection ${s + 1} of ${conns.size}: ${conns.get(s)} =====`, empty: true };
        entries.push(marker);
      }
      if (seen.has(h)) { seen.get(h).count++; continue; }
      marker.empty = false;
      counts[tn].unique++;
      const [head, lines] = describe(msg, feat, stats);
      const e = { head, lines, hex: h, count: 1 };
      seen.set(h, e);
      entries.push(e);
    }
    const out = [...sp.header, ""];
    for (const e of entries) {
      if (e.marker) {
        out.push(e.empty ? `${e.marker}\n# (only repeats of messages listed above)` : e.marker, "");
        continue;
      }
      const rep = e.count > 1 ? ` (sent ${e.count} times, listed once)` : "";
      out.push(`# ${e.head}${rep}`, ...e.lines, e.hex, "");
    }
    writeFileSync(`${outDir}/${sp.file}`, out.join("\n"));
    const countTxt = Object.entries(counts)
      .map(([t, c]) => (c.sent === c.unique ? `${t} ${c.sent}` : `${t} ${c.unique} (${c.sent} sent)`))
      .join(", ");
    const rt = (o) => Object.entries(o).map(([t, n]) => `type-${t} x${n}`).join(", ") || "none";
    summary.push(
      `### ${sp.file} (${sp.name}, ${sp.ip})`, "",
      `- messages listed (sent): ${countTxt}; sent on ${new Set(list.map((x) => x.session)).size} of ${conns.size} TCP connections`,
      `- EVPN NLRI announced in the listed UPDATEs: ${rt(stats.evpnAnnounced)}`,
      `- EVPN NLRI withdrawn in the listed UPDATEs: ${rt(stats.evpnWithdrawn)}`,
      `- IPv4 unicast prefixes announced: ${stats.ipv4Announced}, withdrawn: ${stats.ipv4Withdrawn}`,
      `- MAC Mobility sequence numbers seen: ${[...stats.mmSeq].join(", ") || "none"}`,
      `- features: ${[...feat].sort().join("; ")}`, "",
    );
    console.log(`${sp.file}: ${countTxt}`);
  }
  writeFileSync(`${outDir}/summary.md`, summary.join("\n"));
}

// ---- verify: every non-comment line is exactly one well-formed message ----

function verify(files) {
  let bad = 0;
  for (const file of files) {
    const counts = {};
    readFileSync(file, "utf8").split("\n").forEach((line, i) => {
      if (line === "" || line.startsWith("#")) return;
      try {
        if (!/^([0-9a-f]{2})+$/.test(line)) throw new Error("not lowercase hex bytes");
        const msgs = split(Buffer.from(line, "hex"), "line");
        if (msgs.length !== 1) throw new Error(`${msgs.length} messages on one line`);
        const t = TYPES[msgs[0][18]] ?? `TYPE-${msgs[0][18]}`;
        counts[t] = (counts[t] ?? 0) + 1;
      } catch (e) {
        bad++;
        console.log(`${file}:${i + 1}: ${e.message}`);
      }
    });
    console.log(`${file}: ${Object.entries(counts).map(([t, n]) => `${t} ${n}`).join(", ")}`);
  }
  if (bad) process.exit(1);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "extract") {
  const [segFile, typesFile, outDir, specJson] = args;
  extract(segFile, typesFile, outDir, JSON.parse(readFileSync(specJson, "utf8")));
} else if (mode === "verify") {
  verify(args);
} else {
  console.error("usage: bgpfix.mjs extract|verify ...");
  process.exit(2);
}
NODE_EOF

# ---------------------------------------------------- write the fixtures ---

VERSIONS=$(dpkg-query -W frr gobgpd)
TOOLS="tshark $(dpkg-query -W -f '${Version}' tshark), tcpdump $(dpkg-query -W -f '${Version}' tcpdump)"
KERNEL=$(uname -r)
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
STAGE=$WORK/out
mkdir -p "$STAGE"

header() { # header <who>: comment lines at the top of a fixture
  cat <<EOF
# BGP messages sent by $1 on an iBGP session (AS $ASN, L2VPN EVPN + IPv4 unicast)
# between FRR bgpd ($FRR_IP) and gobgpd ($GOBGP_IP), captured on $DATE
# by scripts/capture-interop-fixtures.sh - see README.md in this directory.
# Versions (dpkg-query -W frr gobgpd): $(awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}' <<<"$VERSIONS")
#
# Format: '#' lines are comments, blank lines are ignored; every other line is
# exactly one complete BGP message (16-byte marker, length, type, body) in
# lowercase hex, in the order sent. A message sent again byte for byte
# (KEEPALIVEs, UPDATEs re-sent after a route refresh or on a later TCP
# connection) is listed only at its first occurrence. The comment lines above each message are a
# decoding made by the capture script, for humans; the hex is authoritative.
EOF
}
jq -n --arg frr "$FRR_IP" --arg gobgp "$GOBGP_IP" \
  --arg hfrr "$(header "FRR 8.4 (bgpd)")" --arg hgobgp "$(header "GoBGP 3 (gobgpd)")" '[
  {ip: $frr, file: "frr-8.4.hex", name: "FRR 8.4 bgpd", header: ($hfrr | split("\n"))},
  {ip: $gobgp, file: "gobgp-3.hex", name: "GoBGP 3 gobgpd", header: ($hgobgp | split("\n"))}
]' >"$WORK/speakers.json"

run node "$WORK/bgpfix.mjs" extract "$WORK/segments.tsv" "$WORK/bgp-types.tsv" "$STAGE" \
  "$WORK/speakers.json"

log "checking the written fixtures"
run node "$WORK/bgpfix.mjs" verify "$STAGE/frr-8.4.hex" "$STAGE/gobgp-3.hex"

log "asking tshark for malformed packets / expert errors"
MALFORMED=$(tshark -r "$WORK/bgp.pcap" -Y '_ws.malformed or _ws.expert.severity >= "error"' 2>/dev/null || true)
if [[ -n $MALFORMED ]]; then
  log "tshark reports:"; printf '%s\n' "$MALFORMED" >&2
  MALFORMED_TXT=$(printf 'It printed:\n\n```\n%s\n```\n' "$MALFORMED")
else
  log "tshark reports nothing"
  MALFORMED_TXT="It printed nothing."
fi
# interop quirks the daemons logged (FRR's log is removed at cleanup)
NOTES=""
TAW=$(grep -c "treated as withdraw" "$WORK/gobgpd.log" || true)
if ((TAW > 0)); then
  NOTES+="- gobgpd 3.10 logged \"the received Update message was treated as withdraw\"
  $TAW time(s), error \"$(grep -o 'unknown evpn subtype: [0-9]*' "$WORK/gobgpd.log" | sort -u | paste -sd,)\":
  it does not know the EVPN ND extended community (subtype 8, RFC 9047) that
  FRR puts on the SVI's IPv6 MAC/IP routes.
"
fi
if grep -q "in Extended Next-hop capability" "$FRR_RUN/frr.log" 2>/dev/null; then
  NOTES+="- FRR logged: \"$(grep -o '192.0.2.2 Unexpected afi/safi/next-hop afi.*' "$FRR_RUN/frr.log" | head -n 1)\"
  (gobgpd's OPEN offers Extended Next Hop for l2vpn/evpn with IPv6 next hops).
"
fi

cat >"$STAGE/README.md" <<EOF
# Interop fixtures: BGP messages captured from FRR 8.4 and GoBGP 3

- \`frr-8.4.hex\`: every distinct BGP message FRR's bgpd sent to gobgpd.
- \`gobgp-3.hex\`: every distinct BGP message gobgpd sent to FRR.

Format: UTF-8 text; lines starting with \`#\` are comments, blank lines are
ignored, every other line is exactly one complete BGP message (16-byte marker,
length, type, body) in lowercase hex, in the order it was sent. A message that
was sent again byte for byte (KEEPALIVEs, UPDATEs re-sent after the route
refresh or in the second session) is listed once, at its first occurrence; its
comment says how often it was sent. The \`#\` lines before each message are a
decoding made by the capture script (summary, attributes, \`+\` announced and
\`-\` withdrawn NLRI), for humans only.

## How they were captured

- Date: $DATE
- Command: \`sudo scripts/capture-interop-fixtures.sh\` (as root; writes this
  directory; nothing is left behind in the system afterwards)
- Versions (\`dpkg-query -W frr gobgpd\`):

\`\`\`
$VERSIONS
\`\`\`

- Also: $TOOLS, node $(node --version); Debian $(cat /etc/debian_version), kernel $KERNEL.

The script builds a lab of network namespaces (all names \`efx-*\`, documentation
addresses only): \`efx-frr\` runs FRR (zebra + bgpd, \`frr defaults
datacenter\`) as an EVPN VTEP $FRR_IP; \`efx-gobgp\` runs gobgpd $GOBGP_IP
(passive, graceful restart enabled); a veth pair connects them. iBGP AS $ASN,
address families L2VPN EVPN and IPv4 unicast, timers 3/9. tcpdump on gobgpd's
side of the veth records TCP port 179; the payload of each direction is
reassembled by TCP sequence number and split at the BGP length field, and the
per-sender counts are checked against tshark's BGP dissector. (tshark 4.0's
\`-z follow,tcp,raw\` was not used: its output showed gobgpd's OPEN as if FRR
had sent it.)

FRR's kernel side: VNI 10 = bridge \`efx-br10\` + VXLAN \`efx-vx10\` with an SVI
(198.51.100.1/25, 2001:db8:10::1/64, MAC 02:00:00:00:01:01, \`advertise-default-gw\`)
and host \`efx-h10\` (MAC 02:00:00:00:01:0a, 198.51.100.11, 2001:db8:10::11) behind
it; VNI 20 = \`efx-br20\` + \`efx-vx20\`, no SVI, host \`efx-h20\` (MAC
02:00:00:00:01:14) and static fdb entries 02:00:00:00:14:01 (\`static\`) and
02:00:00:00:14:02 (\`static sticky\`); L3VNI 100 of the default VRF = \`efx-br100\`
(router MAC 02:00:00:00:01:64) + \`efx-vx100\`, with \`advertise ipv4/ipv6
unicast\`, so FRR's BGP IPv4/IPv6 unicast prefixes (\`network 192.0.2.0/24\`,
\`network 203.0.113.0/25\` via a blackhole route, \`network 2001:db8:10::/64\`)
are also announced as type-5 routes. The kernel used has no VRF or dummy
device support, hence the default-VRF L3VNI.

## What happened on the wire, in order

1. Session 1 comes up (FRR connects); OPENs, End-of-RIBs.
2. FRR announces what zebra learnt: type 3 for VNI 10 and 20 (PMSI ingress
   replication), type 2 for host h10 (MAC only, MAC+IPv4, MAC+IPv6, IPv6
   link-local; MAC/IP routes carry two labels, VNI 10 + L3VNI 100, and the
   router MAC), the SVI's MAC/IPs with the default-gateway community (IPv6 ones
   also with the EVPN ND extended community), host h20 and the two static MACs
   (one with MAC Mobility "sticky"), type 5 and IPv4 unicast prefixes. It
   also passes on what it imported from gobgpd: gobgpd's IPv4 unicast routes
   as type 5 (keeping MED, LOCAL_PREF, COMMUNITIES) and gobgpd's type 5
   203.0.113.128/25 as an IPv4 unicast route (with ORIGINATOR_ID and
   CLUSTER_LIST).
3. gobgpd announces routes injected with the \`gobgp\` CLI: type 3 for VNI 10
   and 20 (PMSI ingress replication); type 2 with IPv4, without IP, with IPv6,
   with two route targets (65000:10 65000:20), with an ESI of type 1 (LACP) and
   of type 0 (arbitrary), with a router MAC; type 5 for 203.0.113.128/25 and
   2001:db8:20::/64 with router MAC; type 1 per-ES (etag 0xffffffff, ESI label
   community) and per-EVI; type 4 (with ES-import RT); IPv4 unicast
   203.0.113.192/26 (MED, LOCAL_PREF, COMMUNITIES) and 203.0.113.224/27.
4. MAC mobility: gobgpd announces h10's MAC/IP as well and adds a MAC
   Mobility community (seq 0) by itself. Then gobgpd announces MAC
   02:00:00:00:01:0b; the MAC appears on FRR's bridge, FRR announces it with MAC
   Mobility seq 1 and gobgpd withdraws its own route; gobgpd announces it again
   (seq 2) and FRR withdraws its route.
5. Withdrawals: gobgpd withdraws the MAC-only and IPv6 type 2, VNI 20's type 3,
   the IPv6 type 5, the per-EVI type 1 and 203.0.113.224/27; FRR withdraws a
   static MAC, 203.0.113.0/25 (IPv4 unicast and type 5) and all of VNI 20 (its
   VXLAN device goes down).
6. FRR sends a ROUTE-REFRESH (\`clear bgp $GOBGP_IP soft in\`); gobgpd answers
   by sending its routes again.
7. FRR ends the session (\`neighbor shutdown message ...\`: NOTIFICATION Cease /
   Administrative Shutdown with a shutdown message) and is then allowed to
   reconnect. gobgpd, still idle, may close FRR's first reconnection right
   after FRR's OPEN; then the second session comes up, where both sides
   announce their routes again (FRR now packs several NLRI per UPDATE).
   gobgpd ends it (\`gobgp neighbor $FRR_IP shutdown --reason ...\`:
   NOTIFICATION Cease / Administrative Shutdown with a shutdown message).

## Contents (generated from the capture)

$(cat "$STAGE/summary.md")

## Checks

- Every non-comment line parses as exactly one BGP message whose length
  field equals the line's byte count (the script's \`verify\` step).
- \`tshark -r bgp.pcap -Y '_ws.malformed or _ws.expert.severity >= "error"'\`:
  $MALFORMED_TXT

## Interop notes seen during the capture

$NOTES- The gobgp 3.10 CLI cannot set MAC Mobility / sticky, and \`default-gateway\`
  or \`esi-label ... single-active\` do not parse together with the other
  options used, so gobgpd's MAC Mobility communities come from its own
  MAC-move handling and FRR provides the sticky and default-gateway ones.
EOF
rm -f "$STAGE/summary.md"

log "writing $OUT_DIR"
mkdir -p "$OUT_DIR"
cp "$STAGE/frr-8.4.hex" "$STAGE/gobgp-3.hex" "$STAGE/README.md" "$OUT_DIR/"
run node "$WORK/bgpfix.mjs" verify "$OUT_DIR/frr-8.4.hex" "$OUT_DIR/gobgp-3.hex"
log "done: $OUT_DIR/{frr-8.4.hex,gobgp-3.hex,README.md}"
