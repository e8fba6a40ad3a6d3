#!/bin/bash
# translate.sh with the TUN offloads off (tun.offload = false): the same packets,
# the same bytes, no virtio header and no super-packets.
export MSLB_TUN_OFFLOAD=false
exec "$(dirname "$0")/translate.sh" "$@"
