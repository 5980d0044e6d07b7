#!/usr/bin/env bash
# Installs what evpn-proxy, its lab and its tests need on a fresh Debian machine (as root):
# FRR and gobgpd (lab peers, interop tests), tshark, tcpdump (also compiles the capture's BPF
# program in a unit test), ping, arping, ndisc6, iproute2, valgrind (bench/capture-memcheck.ts);
# then the npm packages from package-lock.json (g++, make and python3 build the native addons).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  tshark frr gobgpd tcpdump iputils-ping arping ndisc6 iproute2 valgrind g++ make python3
npm ci
