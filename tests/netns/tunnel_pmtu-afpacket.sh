#!/bin/bash
# tunnel_pmtu.sh with every interface of the front and the back on the
# AF_PACKET path (io.af_packet): outer packets leave by the rings' transmit
# sockets, r's errors about them come back through the rings, and the
# outer fragments leave by the TUN.
export MSLB_IO=af_packet
exec "$(dirname "$0")/tunnel_pmtu.sh" "$@"
