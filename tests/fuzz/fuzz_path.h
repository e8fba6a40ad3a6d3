/* fuzz_path: the record format of fuzz_path inputs, shared with the seed
 * generator that writes them. An input is one byte choosing the config
 * (fuzz_confs.c, modulo their number), then records:
 *
 *   flags (1)  FZ_R_* below
 *   clock (1)  step before the record: below 128 that many 10 ms, else
 *              (clock - 128) * 5 s (reassembly timeouts, path MTU expiry)
 *   len (2)    big-endian; cut to what the input has left
 *   [offload (10) with FZ_R_OFFLOAD: flags (virtio's: NEEDS_CSUM,
 *              DATA_VALID), gso_type, then big-endian csum_start,
 *              csum_offset, gso_size, hdr_len]
 *   body (len) a packet, or with FZ_R_MTU three bytes: selector, MTU (2),
 *              or with FZ_R_HEALTH: next hop, op, probe id (2), source (16)
 *
 * The fix-up flags let mutations keep valid checksums and lengths, which
 * the parser would otherwise reject before anything interesting runs. */
#ifndef MSLB_FUZZ_PATH_H
#define MSLB_FUZZ_PATH_H

#define FZ_R_FIX_MASK 0x03	/* enum fz_fix + 1; 0: leave the checksums as they are */
#define FZ_R_OFFLOAD 0x04	/* explicit offload metadata follows */
#define FZ_R_FIX_LEN 0x08	/* set the IP length fields (every level) to the record's length */
#define FZ_R_MTU 0x10		/* a route MTU (lb_set_route_mtu / lb_set_return_mtu), not a packet */
#define FZ_R_HEALTH 0x20	/* a next hop's state or probe (lb_set_usable, lb_set_probe), not a packet */
#define FZ_R_USO 0x40		/* emitted packets may be UDP GSO (lb_set_emit_uso), as with a TUN of Linux 6.2+ */
/* The output takes UDP-tunnel super-packets of both outer families
 * (lb_set_emit_tunnel_gso), as a TUN with its TAP of Linux 6.17+. In the
 * offload block the virtio flag UDP_TUNNEL_CSUM (0x08) counts only with a
 * tunnel GSO type (0x20, 0x40), and after such a type come 4 more bytes:
 * outer_th, inner_nh (big-endian). Older inputs keep their meaning but
 * for this flag and that offload flag, unused before. */
#define FZ_R_TNL 0x80

/* FZ_R_HEALTH op: bit 0 usable; bit 1 set a probe (bit 2 IPv6, bit 3 ICMP
 * rather than TCP), else clear it. */
#define FZ_H_USABLE 0x01
#define FZ_H_PROBE 0x02
#define FZ_H_V6 0x04
#define FZ_H_ICMP 0x08

/* FZ_R_MTU selector: bit 7 the return tunnel's, bit 6 the IPv6 outer
 * family, bits 0-5 the next hop. */
#define FZ_MTU_RETURN 0x80
#define FZ_MTU_V6 0x40

#define FZ_MAX_RECORDS 16

#endif
