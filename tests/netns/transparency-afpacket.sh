#!/bin/bash
# transparency.sh over the AF_PACKET path (io.af_packet on every interface
# of the front and the backs): the daemon decrements the TTL / hop limit
# itself there, which the comparison allows.
export MSLB_IO=af_packet
exec "$(dirname "$0")/transparency.sh" "$@"
