#!/bin/bash
# p2.sh with an encapsulating front: the Proposal 2 option rides in the
# inner header, which the back takes out after decapsulating.
export MSLB_FRONT_MODE=encapsulate
exec "$(dirname "$0")/p2.sh" "$@"
