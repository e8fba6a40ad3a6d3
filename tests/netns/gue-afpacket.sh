#!/bin/bash
# gue.sh with every interface of the front and the backs on the AF_PACKET
# path (io.af_packet): GUE leaves by the rings' transmit sockets, and the
# backs take it apart where it lies in their receive rings.
export MSLB_IO=af_packet
exec "$(dirname "$0")/gue.sh" "$@"
