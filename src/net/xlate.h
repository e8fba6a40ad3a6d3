/* xlate: MSLB address translation (draft-matsuhira-mslb-17 section 5.1):
 * replace the destination address and keep every checksum right. */
#ifndef MSLB_XLATE_H
#define MSLB_XLATE_H

#include <stdint.h>

#include "pkt.h"

/* new_dst has the packet's address length. Cannot fail after pkt_parse. */
void xlate_set_dst(struct pkt_view *v, const uint8_t *new_dst);

#endif
