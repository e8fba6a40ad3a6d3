#!/bin/bash
# tunnel_pmtu.sh in GUE: the front learns the path MTU from errors that
# quote its outer IP and UDP headers, 8 bytes more overhead than IP-in-IP.
export MSLB_PMTU_ENCAP=gue
exec "$(dirname "$0")/tunnel_pmtu.sh" "$@"
