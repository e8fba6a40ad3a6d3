#!/bin/bash
# scripts/deps.sh: install what building and testing mslbd needs, on Debian 12.
# Installs only the packages that are missing; running it again does nothing.
set -u

PACKAGES="
build-essential autoconf automake libtool pkg-config clang libclang-rt-dev
libev-dev libconfig-dev libmnl-dev libcunit1-dev libxxhash-dev libcap-ng-dev libsodium-dev liburing-dev
iproute2 iputils-ping procps ethtool nftables
socat openssl tcpdump iperf3 jq python3 python3-scapy python3-cryptography
vsftpd curl bird2
"

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: must run as root (it installs packages with apt-get)" >&2
	exit 1
fi
if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "deps.sh: needs a Debian system (dpkg-query and apt-get)" >&2
	exit 1
fi

missing=""
for p in $PACKAGES; do
	if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "deps.sh: all packages installed"
	exit 0
fi

echo "deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -q; then
	echo "deps.sh: apt-get update failed" >&2
	exit 1
fi
# shellcheck disable=SC2086
if ! apt-get install -y -q --no-install-recommends $missing; then
	echo "deps.sh: apt-get install failed for:$missing" >&2
	exit 1
fi
echo "deps.sh: done"
