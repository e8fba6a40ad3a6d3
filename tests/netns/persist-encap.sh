#!/bin/bash
# persist.sh with an encapsulating front: the mark rides in the inner
# header, which the back takes out after decapsulating.
export MSLB_FRONT_MODE=encapsulate
exec "$(dirname "$0")/persist.sh" "$@"
