/* rdr_wire: encode and decode the redirection protocol's messages. The
 * decoder is strict (every reserved bit zero, every field in range) so
 * that exactly one byte string encodes each message: what it accepts, the
 * encoder writes back byte for byte. */
#include "rdr_wire.h"

#include <stdbool.h>
#include <string.h>

static const char *const parse_names[RDR_PARSE_MAX] = {
	[RDR_PARSE_OK] = "ok",
	[RDR_PARSE_LENGTH] = "length",
	[RDR_PARSE_MAGIC] = "magic",
	[RDR_PARSE_VERSION] = "version",
	[RDR_PARSE_TYPE] = "type",
	[RDR_PARSE_COUNT] = "count",
	[RDR_PARSE_RESERVED] = "reserved",
	[RDR_PARSE_FAMILY] = "family",
	[RDR_PARSE_PROTO] = "protocol",
	[RDR_PARSE_PORT] = "port",
	[RDR_PARSE_TTL] = "ttl",
	[RDR_PARSE_STATUS] = "status",
};

const char *rdr_parse_name(enum rdr_parse e)
{
	return (unsigned)e < RDR_PARSE_MAX ? parse_names[e] : "?";
}

const char *rdr_type_name(unsigned type)
{
	switch (type) {
	case RDR_INSTALL: return "install";
	case RDR_REFRESH: return "refresh";
	case RDR_DELETE: return "delete";
	case RDR_ACK: return "ack";
	}
	return "?";
}

size_t rdr_msg_len(unsigned type, unsigned count)
{
	size_t body = type == RDR_ACK ? RDR_ACK_FIXED + ((count + 3u) & ~3u) : (size_t)count * RDR_RULE_LEN;

	return RDR_HDR_LEN + body + RDR_MAC_LEN;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static bool version_ok(uint8_t v)
{
	return v == 4 || v == 6;
}

/* An IPv4 address keeps the 12 bytes after it zero. */
static bool padded(uint8_t version, const uint8_t *a)
{
	static const uint8_t zero[12];

	return version == 6 || !memcmp(a + 4, zero, sizeof(zero));
}

static bool type_ok(unsigned t)
{
	return t >= RDR_INSTALL && t <= RDR_ACK;
}

static enum rdr_parse check_rule(unsigned type, const struct rdr_rule *r)
{
	if (!version_ok(r->flow.version) || !version_ok(r->owner_version))
		return RDR_PARSE_FAMILY;
	if (r->flow.proto != 6 && r->flow.proto != 17)
		return RDR_PARSE_PROTO;
	if (!padded(r->flow.version, r->flow.client) || !padded(r->flow.version, r->flow.service) ||
	    !padded(r->owner_version, r->owner))
		return RDR_PARSE_RESERVED;
	if (!get16(r->flow.cport) || !get16(r->flow.sport))
		return RDR_PARSE_PORT;
	if (type == RDR_DELETE ? r->ttl != 0 : r->ttl == 0 || r->ttl > RDR_MAX_TTL)
		return RDR_PARSE_TTL;
	return RDR_PARSE_OK;
}

size_t rdr_encode(const struct rdr_msg *m, uint8_t *buf)
{
	size_t len;
	uint8_t *b;

	if (!type_ok(m->type) || m->count < 1 || m->count > RDR_MAX_RECORDS)
		return 0;
	len = rdr_msg_len(m->type, m->count);
	memset(buf, 0, len);
	buf[0] = 'M';
	buf[1] = 'R';
	buf[2] = RDR_VERSION;
	buf[3] = m->type;
	buf[4] = m->key_id;
	put16(buf + 6, m->count);
	put64(buf + 8, m->epoch);
	put64(buf + 16, m->seq);
	b = buf + RDR_HDR_LEN;
	if (m->type == RDR_ACK) {
		put64(b, m->u.ack.epoch);
		put64(b + 8, m->u.ack.seq);
		for (unsigned i = 0; i < m->count; i++) {
			if (m->u.ack.status[i] >= RDR_ST_MAX)
				return 0;
			b[RDR_ACK_FIXED + i] = m->u.ack.status[i];
		}
		return len;
	}
	for (unsigned i = 0; i < m->count; i++, b += RDR_RULE_LEN) {
		const struct rdr_rule *r = &m->u.rule[i];

		if (check_rule(m->type, r) != RDR_PARSE_OK)
			return 0;
		b[0] = r->flow.version;
		b[1] = r->flow.proto;
		b[2] = r->owner_version;
		put16(b + 4, r->ttl);
		memcpy(b + 6, r->flow.cport, 2);
		memcpy(b + 8, r->flow.sport, 2);
		memcpy(b + 12, r->flow.client, 16);
		memcpy(b + 28, r->flow.service, 16);
		memcpy(b + 44, r->owner, 16);
	}
	return len;
}

enum rdr_parse rdr_decode(const uint8_t *buf, size_t len, struct rdr_msg *m)
{
	const uint8_t *b;
	enum rdr_parse e;

	if (len < RDR_HDR_LEN + RDR_MAC_LEN || len > RDR_MAX_LEN)
		return RDR_PARSE_LENGTH;
	if (buf[0] != 'M' || buf[1] != 'R')
		return RDR_PARSE_MAGIC;
	if (buf[2] != RDR_VERSION)
		return RDR_PARSE_VERSION;
	if (!type_ok(buf[3]))
		return RDR_PARSE_TYPE;
	m->type = buf[3];
	m->key_id = buf[4];
	m->count = get16(buf + 6);
	m->epoch = get64(buf + 8);
	m->seq = get64(buf + 16);
	if (m->count < 1 || m->count > RDR_MAX_RECORDS)
		return RDR_PARSE_COUNT;
	if (len != rdr_msg_len(m->type, m->count))
		return RDR_PARSE_LENGTH;
	if (buf[5])
		return RDR_PARSE_RESERVED;
	b = buf + RDR_HDR_LEN;
	if (m->type == RDR_ACK) {
		m->u.ack.epoch = get64(b);
		m->u.ack.seq = get64(b + 8);
		for (unsigned i = 0; i < ((m->count + 3u) & ~3u); i++) {
			uint8_t s = b[RDR_ACK_FIXED + i];

			if (i >= m->count) {
				if (s)
					return RDR_PARSE_RESERVED;
			} else if (s >= RDR_ST_MAX) {
				return RDR_PARSE_STATUS;
			} else {
				m->u.ack.status[i] = s;
			}
		}
		return RDR_PARSE_OK;
	}
	for (unsigned i = 0; i < m->count; i++, b += RDR_RULE_LEN) {
		struct rdr_rule *r = &m->u.rule[i];

		if (b[3] || b[10] || b[11])
			return RDR_PARSE_RESERVED;
		r->flow.version = b[0];
		r->flow.proto = b[1];
		r->owner_version = b[2];
		r->ttl = get16(b + 4);
		memcpy(r->flow.cport, b + 6, 2);
		memcpy(r->flow.sport, b + 8, 2);
		memcpy(r->flow.client, b + 12, 16);
		memcpy(r->flow.service, b + 28, 16);
		memcpy(r->owner, b + 44, 16);
		e = check_rule(m->type, r);
		if (e != RDR_PARSE_OK)
			return e;
	}
	return RDR_PARSE_OK;
}
