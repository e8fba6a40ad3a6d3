#!/bin/bash
# translate.sh with every interface of the front and the backs on the
# AF_PACKET path (io.af_packet): the same checks, plus that the front's
# rings and transmit sockets carried traffic and that no blackhole rule
# outlives the daemons.
export MSLB_IO=af_packet
exec "$(dirname "$0")/translate.sh" "$@"
