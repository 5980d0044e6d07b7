#!/usr/bin/env bash
# Installs what evpn-proxy, its lab and its tests need on a fresh Debian machine (as root):
# FRR and gobgpd (lab peers, interop tests), tshark, tcpdump, ping, arping, ndisc6, iproute2, libpcap; then the
# npm packages from package-lock.json (g++, make and python3 build the native VXLAN receiver and `cap`).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  tshark frr gobgpd tcpdump iputils-ping arping ndisc6 iproute2 libpcap-dev g++ make python3
npm ci
