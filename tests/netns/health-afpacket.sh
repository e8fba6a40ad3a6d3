#!/bin/bash
# health.sh with every interface of the front and the backs on the
# AF_PACKET path (io.af_packet): the probes still leave through the TUN
# device, and the front sends them on by its rings like any packet.
export MSLB_IO=af_packet
exec "$(dirname "$0")/health.sh" "$@"
