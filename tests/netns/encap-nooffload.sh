#!/bin/bash
# encap.sh with the TUN offloads off (tun.offload = false): the same packets,
# the same bytes, one read and one write per packet.
export MSLB_TUN_OFFLOAD=false
exec "$(dirname "$0")/encap.sh" "$@"
