#!/bin/bash
# redirect.sh with an encapsulating front and every interface on the
# AF_PACKET path: the backs take the front's tunnel apart, then redirect
# the inner packet in a tunnel of their own.
export MSLB_FRONT_MODE=encapsulate MSLB_IO=af_packet
exec "$(dirname "$0")/redirect.sh" "$@"
