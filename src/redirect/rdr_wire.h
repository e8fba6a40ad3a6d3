/* rdr_wire: the redirection protocol's messages (mslbd(8), REDIRECTION
 * PROTOCOL), encoded and decoded without I/O, keys or clocks, so that the
 * daemon, the unit tests and a fuzz target share one codec.
 *
 * A message: a 24-byte header, count records, a 32-byte HMAC-SHA256 of
 * everything before it. All numbers big-endian.
 *
 *   0  'M' 'R'   magic
 *   2  version   RDR_VERSION
 *   3  type      install 1, refresh 2, delete 3, ack 4
 *   4  key id    which key signed it
 *   5  reserved  0
 *   6  count     records, 1..RDR_MAX_RECORDS
 *   8  epoch     random per start of the sender (high 32 bits: its clock)
 *  16  sequence  per message, from 1 in each epoch
 *
 * Rule record (install, refresh, delete), RDR_RULE_LEN bytes:
 *   0 flow family (4, 6)   1 protocol (6, 17)   2 owner family (4, 6)
 *   3 reserved 0           4 ttl seconds (0 in delete, 1..3600 else)
 *   6 client port          8 service port       10 reserved 0
 *  12 client address      28 service address    44 owner address
 * (16 bytes each; an IPv4 address in the first 4, the rest zero.)
 *
 * Ack body (count = number of status bytes = the acked message's count):
 *   0 acked epoch   8 acked sequence   16 count status bytes, 0 padded to 4
 */
#ifndef MSLB_RDR_WIRE_H
#define MSLB_RDR_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define RDR_VERSION 1
#define RDR_HDR_LEN 24
#define RDR_MAC_LEN 32
#define RDR_RULE_LEN 60
#define RDR_ACK_FIXED 16
#define RDR_MAX_RECORDS 16
#define RDR_MAX_LEN (RDR_HDR_LEN + RDR_MAX_RECORDS * RDR_RULE_LEN + RDR_MAC_LEN)
#define RDR_MAX_TTL 3600

enum rdr_type { RDR_INSTALL = 1, RDR_REFRESH = 2, RDR_DELETE = 3, RDR_ACK = 4 };

/* A flow in the client's direction: what a rule matches. Plain bytes, no
 * padding, so it hashes and compares as memory. */
struct rdr_flow {
	uint8_t version;	/* 4 or 6 */
	uint8_t proto;		/* IPPROTO_TCP, IPPROTO_UDP */
	uint8_t cport[2], sport[2];	/* network order */
	uint8_t client[16], service[16];
};

struct rdr_rule {
	struct rdr_flow flow;
	uint8_t owner_version;
	uint8_t owner[16];
	uint16_t ttl;
};

/* What an ack says of each record of the message it answers. */
enum rdr_status {
	RDR_ST_OK = 0,
	RDR_ST_CAP = 1,		/* refused: this peer's or the total rule cap */
	RDR_ST_OWNER = 2,	/* refused: the owner is none of the sender's tunnel addresses */
	RDR_ST_MAX
};

struct rdr_msg {
	uint8_t type, key_id;
	uint16_t count;
	uint64_t epoch, seq;
	union {
		struct rdr_rule rule[RDR_MAX_RECORDS];
		struct {
			uint64_t epoch, seq;
			uint8_t status[RDR_MAX_RECORDS];
		} ack;
	} u;
};

/* Why a message is malformed. */
enum rdr_parse {
	RDR_PARSE_OK,
	RDR_PARSE_LENGTH,	/* shorter than a header and a MAC, longer than RDR_MAX_LEN, or not what count says */
	RDR_PARSE_MAGIC,
	RDR_PARSE_VERSION,
	RDR_PARSE_TYPE,
	RDR_PARSE_COUNT,
	RDR_PARSE_RESERVED,	/* a reserved byte or an address's padding not zero */
	RDR_PARSE_FAMILY,
	RDR_PARSE_PROTO,
	RDR_PARSE_PORT,		/* port 0 */
	RDR_PARSE_TTL,
	RDR_PARSE_STATUS,
	RDR_PARSE_MAX
};

const char *rdr_parse_name(enum rdr_parse e);
const char *rdr_type_name(unsigned type);
/* The length of a message of that type and count, MAC included. */
size_t rdr_msg_len(unsigned type, unsigned count);
/* Write m into buf (room for RDR_MAX_LEN); the MAC's 32 bytes at the end
 * are left for the caller. Returns the length, MAC included, or 0 when m
 * is not a message rdr_decode would accept. */
size_t rdr_encode(const struct rdr_msg *m, uint8_t *buf);
/* Read buf[0, len), MAC included (not checked here): any bytes, reads
 * nothing beyond len, fills m only as far as it got. */
enum rdr_parse rdr_decode(const uint8_t *buf, size_t len, struct rdr_msg *m);

#endif
