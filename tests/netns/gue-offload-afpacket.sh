#!/bin/bash
# gue-offload.sh on the AF_PACKET path (io.af_packet): the front's GUE
# super-packets made where the client's lie in the receive ring (within
# the room to the next frame), the back's coalescing done there too.
export MSLB_IO=af_packet
exec "$(dirname "$0")/gue-offload.sh" "$@"
