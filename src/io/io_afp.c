/* io_afp: AF_PACKET on an Ethernet interface.
 *
 * Receive: a TPACKET_V3 ring (blocks of frames the kernel fills and hands
 * over whole) behind a classic BPF filter (afp_filter.c), so only this
 * node's packets are copied into it; PACKET_IGNORE_OUTGOING keeps our own
 * transmissions out. PACKET_VNET_HDR puts a virtio_net_hdr before each
 * frame: a GSO super-packet or a partial checksum from a local or veth peer
 * keeps its metadata, exactly as on a TUN with offloads.
 *
 * recv_batch leaves each IP packet where it lies in the ring: PACKET_RESERVE
 * puts IO_HEADROOM bytes before it for outer headers, and io_pkt.end
 * says how far it may grow (the next frame, or the block's end). A block
 * walked is held until the batch is sent (recv_done, or the next
 * recv_batch), then goes back to the kernel; a batch may span blocks, up
 * to AFP_HELD_MAX of them. A cursor (block, packet) carries over from one
 * batch to the next. A frame without that room is copied into the
 * batch's own buffer, as every frame was before.
 *
 * Transmit: a second socket (protocol 0, so it receives nothing) with
 * PACKET_QDISC_BYPASS and PACKET_VNET_HDR; one sendmmsg per batch, each
 * message an iovec of virtio header, Ethernet header and the packet where
 * it lies: no copy, no allocation. */
#include "io.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* 16 MiB per interface: with GSO super-packets of up to 64 KiB, four
 * blocks overflowed under four TCP streams (180k-210k retransmits in a
 * 2-second bench run); sixteen brought that to about 2k. */
#define AFP_BLOCK_SIZE (1u << 20)
#define AFP_BLOCKS 16
#define AFP_FRAME_SIZE 2048
#define AFP_SNDBUF (8 << 20)
#define AFP_RETIRE_MS 1
/* Blocks one batch may hold from the kernel: the rest keep receiving. */
#define AFP_HELD_MAX (AFP_BLOCKS / 4)

struct io_afp {
	struct io_backend be;
	int ifindex;
	int tx_fd;
	unsigned mtu;			/* the device's, refreshed by io_afp_poll_stats */
	uint8_t mac[6];
	uint8_t *ring;
	size_t ring_len;
	unsigned block;			/* current block */
	struct tpacket3_hdr *next;	/* next packet in it, NULL: block not yet taken */
	unsigned left;			/* packets left in it */
	unsigned held;			/* blocks before it walked, not yet released */
	/* Transmit scratch, one slot per batch packet. */
	struct mmsghdr msg[IO_BATCH];
	struct iovec iov[IO_BATCH][3];
	struct virtio_net_hdr vh[IO_BATCH];
	struct ethhdr eth[IO_BATCH];
	struct sockaddr_ll sll[IO_BATCH];
	struct io_pkt *slot_pkt[IO_BATCH];
};

/* The device's MTU, kept as it was if it cannot be read. */
static void read_mtu(struct io_afp *a)
{
	struct ifreq ifr = { 0 };

	if (if_indextoname((unsigned)a->ifindex, ifr.ifr_name) && ioctl(a->be.fd, SIOCGIFMTU, &ifr) == 0 &&
	    ifr.ifr_mtu > 0)
		a->mtu = (unsigned)ifr.ifr_mtu;
}

static struct tpacket_block_desc *block_at(struct io_afp *a, unsigned i)
{
	return (struct tpacket_block_desc *)(a->ring + (size_t)i * AFP_BLOCK_SIZE);
}

/* The current block is walked: on to the next; it stays held. */
static void next_block(struct io_afp *a)
{
	a->block = (a->block + 1) % AFP_BLOCKS;
	a->next = NULL;
	a->left = 0;
	a->held++;
}

/* The batch that used the held blocks is sent: back to the kernel. */
static void afp_recv_done(struct io_backend *be)
{
	struct io_afp *a = (struct io_afp *)be;

	for (; a->held; a->held--) {
		unsigned i = (a->block + AFP_BLOCKS - a->held) % AFP_BLOCKS;

		__atomic_store_n(&block_at(a, i)->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	}
}

/* One frame of the ring into p, which ends at end; false if it is not
 * for the data path. */
static bool take(struct io_afp *a, struct tpacket3_hdr *h, uint8_t *end, struct io_pkt *p)
{
	uint8_t *frame = (uint8_t *)h + h->tp_mac;
	struct virtio_net_hdr vh;
	uint32_t len;
	uint16_t type;

	if (h->tp_snaplen != h->tp_len || h->tp_snaplen < ETH_HLEN) {
		a->be.stats.rx_errors++;
		return false;
	}
	memcpy(&type, frame + 12, 2);
	type = ntohs(type);
	/* A tagged frame belongs to a VLAN device the kernel handles. */
	if ((h->tp_status & TP_STATUS_VLAN_VALID) || type == ETH_P_8021Q || type == ETH_P_8021AD) {
		a->be.stats.vlan_skipped++;
		return false;
	}
	len = h->tp_snaplen - ETH_HLEN;
	if (len > IO_BUF_SIZE || (type != ETH_P_IP && type != ETH_P_IPV6)) {
		a->be.stats.rx_errors++;
		return false;
	}
	/* In place when the reserve left the room the data path writes in;
	 * a kernel that laid the frame out otherwise costs a copy. */
	if (frame + ETH_HLEN - (uint8_t *)h >= (ptrdiff_t)(TPACKET3_HDRLEN + IO_HEADROOM)) {
		p->data = frame + ETH_HLEN;
		p->end = end;
	} else {
		memcpy(p->data, frame + ETH_HLEN, len);
	}
	p->len = len;
	p->ifindex = a->ifindex;
	/* The virtio header precedes the frame; its offsets count from the
	 * Ethernet header, the data path's from the IP header. */
	memcpy(&vh, frame - sizeof(vh), sizeof(vh));
	p->off.flags = vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM ? IO_OFF_NEEDS_CSUM : 0;
	p->csum_valid = vh.flags & VIRTIO_NET_HDR_F_DATA_VALID;
	p->off.gso_type = vh.gso_type;
	p->off.gso_size = le16toh(vh.gso_size);
	p->off.hdr_len = le16toh(vh.hdr_len) >= ETH_HLEN ? (uint16_t)(le16toh(vh.hdr_len) - ETH_HLEN) : 0;
	p->off.csum_start = le16toh(vh.csum_start) >= ETH_HLEN ? (uint16_t)(le16toh(vh.csum_start) - ETH_HLEN) : 0;
	p->off.csum_offset = le16toh(vh.csum_offset);
	if ((p->off.flags & IO_OFF_NEEDS_CSUM) && le16toh(vh.csum_start) < ETH_HLEN) {
		a->be.stats.rx_errors++;
		return false;
	}
	a->be.stats.rx_packets++;
	a->be.stats.rx_bytes += len;
	return true;
}

static int afp_recv(struct io_backend *be, struct io_batch *b)
{
	struct io_afp *a = (struct io_afp *)be;

	afp_recv_done(be);
	io_batch_reset(b);
	while (b->n < IO_BATCH) {
		struct tpacket_block_desc *bd = block_at(a, a->block);
		struct tpacket3_hdr *h;
		uint8_t *end;

		if (!a->next) {
			if (a->held == AFP_HELD_MAX ||
			    !(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
				break;
			a->left = bd->hdr.bh1.num_pkts;
			a->next = (struct tpacket3_hdr *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);
			if (!a->left) {
				next_block(a);
				continue;
			}
		}
		h = a->next;
		/* The last frame (its next offset 0) has the rest of the block. */
		end = a->left > 1 ? (uint8_t *)h + h->tp_next_offset : (uint8_t *)bd + AFP_BLOCK_SIZE;
		if (take(a, h, end, &b->pkt[b->n]))
			b->n++;
		a->next = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
		if (--a->left == 0)
			next_block(a);
	}
	return (int)b->n;
}

static int afp_send(struct io_backend *be, struct io_batch *b)
{
	struct io_afp *a = (struct io_afp *)be;
	unsigned n = 0, done = 0;
	int sent = 0;

	for (unsigned i = 0; i < b->n; i++) {
		struct io_pkt *p = &b->pkt[i];
		struct virtio_net_hdr *vh = &a->vh[n];
		uint16_t type;

		if (!p->len || p->out != be)
			continue;
		type = (p->data[0] >> 4) == 6 ? ETH_P_IPV6 : ETH_P_IP;
		memcpy(a->eth[n].h_dest, p->out_mac, ETH_ALEN);
		memcpy(a->eth[n].h_source, a->mac, ETH_ALEN);
		a->eth[n].h_proto = htons(type);
		memset(vh, 0, sizeof(*vh));
		if (p->off.flags & IO_OFF_NEEDS_CSUM) {
			vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			vh->csum_start = htole16((uint16_t)(p->off.csum_start + ETH_HLEN));
			vh->csum_offset = htole16(p->off.csum_offset);
		}
		if (p->off.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
			vh->gso_type = p->off.gso_type;
			vh->gso_size = htole16(p->off.gso_size);
			vh->hdr_len = htole16((uint16_t)(p->off.hdr_len + ETH_HLEN));
		}
		a->sll[n].sll_protocol = htons(type);
		a->iov[n][0] = (struct iovec){ .iov_base = vh, .iov_len = sizeof(*vh) };
		a->iov[n][1] = (struct iovec){ .iov_base = &a->eth[n], .iov_len = ETH_HLEN };
		a->iov[n][2] = (struct iovec){ .iov_base = p->data, .iov_len = p->len };
		a->msg[n].msg_hdr = (struct msghdr){
			.msg_name = &a->sll[n], .msg_namelen = sizeof(a->sll[n]),
			.msg_iov = a->iov[n], .msg_iovlen = 3,
		};
		a->slot_pkt[n++] = p;
	}
	while (done < n) {
		int r = sendmmsg(a->tx_fd, a->msg + done, n - done, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
			/* The socket's buffer is full (a NIC frees it only as it
			 * transmits): hand the rest back (out = NULL) for the
			 * next backend, the TUN, instead of losing it. Their TTL
			 * is already lower by one, so they arrive one lower. */
			be->stats.tx_deferred += n - done;
			for (unsigned k = done; k < n; k++)
				a->slot_pkt[k]->out = NULL;
			n = done;
			break;
		}
		if (r <= 0) {
			/* This message failed (too big, for one): count it and
			 * go on with the rest. */
			be->stats.tx_errors++;
			done++;
			continue;
		}
		for (int k = 0; k < r; k++) {
			be->stats.tx_packets++;
			be->stats.tx_bytes += a->slot_pkt[done + (unsigned)k]->len;
		}
		done += (unsigned)r;
		sent += r;
	}
	for (unsigned k = 0; k < n; k++)
		a->slot_pkt[k]->len = 0;	/* sent or failed: not again */
	return sent;
}

static void afp_close(struct io_backend *be)
{
	struct io_afp *a = (struct io_afp *)be;

	if (a->ring)
		munmap(a->ring, a->ring_len);
	if (be->fd >= 0)
		close(be->fd);
	if (a->tx_fd >= 0)
		close(a->tx_fd);
	free(a);
}

static const struct io_ops afp_ops = {
	.recv_batch = afp_recv,
	.send_batch = afp_send,
	.recv_done = afp_recv_done,
	.close = afp_close,
};

static int setopt(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v));
}

struct io_backend *io_afp_open(const char *name, char *err, unsigned errlen)
{
	struct io_afp *a = calloc(1, sizeof(*a));
	struct tpacket_req3 req = {
		.tp_block_size = AFP_BLOCK_SIZE,
		.tp_block_nr = AFP_BLOCKS,
		.tp_frame_size = AFP_FRAME_SIZE,
		.tp_frame_nr = AFP_BLOCK_SIZE / AFP_FRAME_SIZE * AFP_BLOCKS,
		.tp_retire_blk_tov = AFP_RETIRE_MS,
	};
	/* Nothing passes until the real filter is attached. */
	struct sock_filter none = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &none };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct ifreq ifr = { 0 };
	const char *what;

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->be.fd = a->tx_fd = -1;
	a->ifindex = (int)if_nametoindex(name);
	if (!a->ifindex) {
		snprintf(err, errlen, "io.af_packet: interface \"%s\" does not exist (allowed: an existing Ethernet interface)", name);
		free(a);
		return NULL;
	}
	a->be.fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	a->tx_fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	what = "socket";
	if (a->be.fd < 0 || a->tx_fd < 0)
		goto fail;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	what = "SIOCGIFHWADDR";
	if (ioctl(a->be.fd, SIOCGIFHWADDR, &ifr) < 0)
		goto fail;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		snprintf(err, errlen, "io.af_packet: interface \"%s\" is not Ethernet (allowed: an existing Ethernet interface)", name);
		afp_close(&a->be);
		return NULL;
	}
	memcpy(a->mac, ifr.ifr_hwaddr.sa_data, 6);
	read_mtu(a);
	/* Room for a batch of 64 KiB GSO packets (the default, ~208 KiB,
	 * holds three); without CAP_NET_ADMIN's FORCE, as much as allowed. */
	if (setopt(a->tx_fd, SOL_SOCKET, SO_SNDBUFFORCE, AFP_SNDBUF) < 0)
		(void)setopt(a->tx_fd, SOL_SOCKET, SO_SNDBUF, AFP_SNDBUF);
	what = "PACKET_VERSION TPACKET_V3";
	if (setopt(a->be.fd, SOL_PACKET, PACKET_VERSION, TPACKET_V3) < 0)
		goto fail;
	what = "PACKET_VNET_HDR";
	if (setopt(a->be.fd, SOL_PACKET, PACKET_VNET_HDR, 1) < 0 ||
	    setopt(a->tx_fd, SOL_PACKET, PACKET_VNET_HDR, 1) < 0)
		goto fail;
	what = "PACKET_IGNORE_OUTGOING";
	if (setopt(a->be.fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1) < 0)
		goto fail;
	what = "SO_ATTACH_FILTER";
	if (setsockopt(a->be.fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		goto fail;
	what = "PACKET_RESERVE";
	if (setopt(a->be.fd, SOL_PACKET, PACKET_RESERVE, IO_HEADROOM) < 0)
		goto fail;
	what = "PACKET_RX_RING";
	if (setsockopt(a->be.fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
		goto fail;
	a->ring_len = (size_t)AFP_BLOCK_SIZE * AFP_BLOCKS;
	a->ring = mmap(NULL, a->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, a->be.fd, 0);
	if (a->ring == MAP_FAILED)
		a->ring = mmap(NULL, a->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, a->be.fd, 0);
	what = "mmap";
	if (a->ring == MAP_FAILED) {
		a->ring = NULL;
		goto fail;
	}
	sll.sll_ifindex = a->ifindex;
	what = "bind";
	if (bind(a->be.fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto fail;
	what = "PACKET_QDISC_BYPASS";
	if (setopt(a->tx_fd, SOL_PACKET, PACKET_QDISC_BYPASS, 1) < 0)
		goto fail;
	for (unsigned i = 0; i < IO_BATCH; i++) {
		a->sll[i].sll_family = AF_PACKET;
		a->sll[i].sll_ifindex = a->ifindex;
		a->sll[i].sll_halen = ETH_ALEN;
	}
	a->be.ops = &afp_ops;
	a->be.kind = "af_packet";
	snprintf(a->be.name, sizeof(a->be.name), "%s", name);
	return &a->be;
fail:
	snprintf(err, errlen, "io.af_packet: interface \"%s\": %s: %s", name, what, strerror(errno));
	afp_close(&a->be);
	return NULL;
}

int io_afp_set_filter(struct io_backend *be, const struct sock_filter *prog, unsigned n)
{
	struct sock_fprog fp = { .len = (unsigned short)n, .filter = (struct sock_filter *)prog };

	return setsockopt(be->fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) < 0 ? -errno : 0;
}

int io_afp_ifindex(const struct io_backend *be)
{
	return ((const struct io_afp *)be)->ifindex;
}

unsigned io_afp_mtu(const struct io_backend *be)
{
	return ((const struct io_afp *)be)->mtu;
}

void io_afp_poll_stats(struct io_backend *be)
{
	struct io_afp *a = (struct io_afp *)be;
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);

	read_mtu(a);	/* an MTU change is seen within a tick */
	/* Reading resets the kernel's counters: accumulate. */
	if (getsockopt(be->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
		be->stats.rx_drops += st.tp_drops;
}
