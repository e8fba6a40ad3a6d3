#!/bin/bash
# mptcp.sh with the front in encapsulation mode: every subflow, the initial
# one by its 5-tuple and each join by the server_id port, reaches its server
# inside IP-in-IP, and the server's back decapsulates.
export MSLB_FRONT_MODE=encapsulate
exec "$(dirname "$0")/mptcp.sh" "$@"
