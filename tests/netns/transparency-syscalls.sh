#!/bin/bash
# transparency.sh with tun.io_uring = false: the same packets, the same bytes, the
# TUN read and written by one read() and one write() per packet.
export MSLB_TUN_IO_URING=false
exec "$(dirname "$0")/transparency.sh" "$@"
