#!/bin/bash
# encap.sh with every interface of the front and the backs on the AF_PACKET
# path (io.af_packet): outer headers leave by the rings' transmit sockets,
# fragments, segments and ICMP errors by the TUN.
export MSLB_IO=af_packet
exec "$(dirname "$0")/encap.sh" "$@"
