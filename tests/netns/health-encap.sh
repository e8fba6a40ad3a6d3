#!/bin/bash
# tests/netns/health-encap.sh: health.sh with the front in encapsulation
# mode: the probes go through the tunnels too.
MSLB_FRONT_MODE=encapsulate exec "$(dirname "$0")/health.sh"
