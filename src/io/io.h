/* io: packet I/O backends behind one small interface, so the data path
 * never knows where packets come from: the TUN device, AF_PACKET rings,
 * or memory (tests). */
#ifndef MSLB_IO_H
#define MSLB_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/pktbuf.h"

#define IO_BATCH 64

/* Offloads a backend has on (io_backend.offloads). */
#define IO_CAP_CSUM 0x1
#define IO_CAP_TSO 0x2		/* TCP segmentation, IPv4 and IPv6 */
#define IO_CAP_USO 0x4		/* UDP segmentation */
#define IO_CAP_TNL_RX 0x8	/* reads give UDP-tunnel super-packets whole */
#define IO_CAP_TNL_TX 0x10	/* writes take them (through the TUN's TAP) */

struct io_backend;

/* Buffers are owned by the batch and allocated once. */
struct io_batch {
	unsigned n;
	struct io_pkt pkt[IO_BATCH];
};

struct io_stats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, tx_errors, rx_errors;
	uint64_t rx_drops;		/* AF_PACKET: dropped by the kernel (ring full) */
	uint64_t vlan_skipped;		/* AF_PACKET: 802.1Q/802.1ad frames left to the kernel */
	uint64_t tx_deferred;		/* AF_PACKET: send buffer full, handed to the TUN */
	uint64_t mtu_deferred;		/* AF_PACKET: larger than the device MTU, handed to the TUN */
};

struct io_ops {
	/* Fill up to IO_BATCH packets; returns how many (0: nothing ready), -1 on a fatal error. */
	int (*recv_batch)(struct io_backend *be, struct io_batch *b);
	/* Send every packet whose len is non-zero; returns how many were sent. */
	int (*send_batch)(struct io_backend *be, struct io_batch *b);
	/* Optional: the last batch received is sent, its packets' storage
	 * (a receive ring's) may be reused. recv_batch implies it. */
	void (*recv_done)(struct io_backend *be);
	/* Optional: how the device is read and written ("io_uring",
	 * "syscalls"); why gets the reason a faster way was refused, or "". */
	const char *(*batching)(const struct io_backend *be, char *why, unsigned whylen);
	void (*close)(struct io_backend *be);
};

struct io_backend {
	const struct io_ops *ops;
	const char *kind;		/* "tun", "mem", "af_packet" */
	char name[16];
	int fd;				/* to watch for readability; -1 if none */
	unsigned offloads;		/* IO_CAP_* */
	struct io_stats stats;
};

struct io_batch *io_batch_create(void);
void io_batch_destroy(struct io_batch *b);
/* Point every packet back at its own buffer with full capacity. */
void io_batch_reset(struct io_batch *b);

static inline int io_recv(struct io_backend *be, struct io_batch *b) { return be->ops->recv_batch(be, b); }
static inline int io_send(struct io_backend *be, struct io_batch *b) { return be->ops->send_batch(be, b); }
static inline void io_recv_done(struct io_backend *be)
{
	if (be->ops->recv_done)
		be->ops->recv_done(be);
}
static inline void io_close(struct io_backend *be) { be->ops->close(be); }
/* NULL where the backend does not say. */
static inline const char *io_batching(const struct io_backend *be, char *why, unsigned whylen)
{
	return be->ops && be->ops->batching ? be->ops->batching(be, why, whylen) : NULL;
}

/* TUN: create device name (IFF_TUN | IFF_NO_PI, non-blocking); with
 * IO_TUN_OFFLOAD, also IFF_VNET_HDR and checksum/TSO/USO offloads as far
 * as the kernel has them; with IO_TUN_URING, each batch's reads and
 * writes in one io_uring submission (read() and write() per packet where
 * the kernel refuses io_uring); with IO_TUN_NAPI, IFF_NAPI (written
 * packets go through NAPI and GRO: bench/floor measures it). On error
 * returns NULL and writes a message to err. */
#define IO_TUN_OFFLOAD 0x1
#define IO_TUN_URING 0x2
#define IO_TUN_NAPI 0x4
/* With IO_TUN_OFFLOAD, UDP-tunnel super-packets too (Linux 6.17): read
 * whole (IO_CAP_TNL_RX), and written through a TAP device named after the
 * TUN with IO_TUN_TAP_SUFFIX (IO_CAP_TNL_TX), since the kernel takes them
 * from a TAP only. */
#define IO_TUN_UDP_TUNNEL 0x8
#define IO_TUN_TAP_SUFFIX "-tx"
struct io_backend *io_tun_open(const char *name, unsigned flags, char *err, unsigned errlen);
/* "csum,tso,uso,udp_tunnel" (as far as there), or "off". */
const char *io_offload_names(unsigned offloads);
int io_tun_ifindex(const struct io_backend *be);
/* The TAP's ifindex, 0 when there is none. */
int io_tun_tap_ifindex(const struct io_backend *be);

/* AF_PACKET on an existing Ethernet interface: a TPACKET_V3 receive ring
 * (with virtio_net_hdr, so offloaded packets keep their metadata) and a
 * transmit socket with PACKET_QDISC_BYPASS. Receives nothing until a
 * filter is attached. recv_batch leaves each IP packet in the ring (its
 * end set) until recv_done or the next recv_batch;
 * send_batch sends, in one sendmmsg, only the packets whose out is this
 * backend, with an Ethernet header to out_mac, and sets their len to 0 so
 * the next backend (the TUN) does not send them again. */
struct sock_filter;
struct io_backend *io_afp_open(const char *name, char *err, unsigned errlen);
int io_afp_set_filter(struct io_backend *be, const struct sock_filter *prog, unsigned n);
int io_afp_ifindex(const struct io_backend *be);
unsigned io_afp_mtu(const struct io_backend *be);
/* Fold the kernel's drop counter (PACKET_STATISTICS) into stats.rx_drops. */
void io_afp_poll_stats(struct io_backend *be);

#endif
