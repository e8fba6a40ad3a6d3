/* json: RFC 8259 string escaping; numbers are unsigned integers only. */
#include "json.h"

#include <inttypes.h>

void json_init(struct json *j, struct strbuf *sb)
{
	j->sb = sb;
	j->depth = 0;
	j->need_comma[0] = false;
}

static void put_string(struct strbuf *sb, const char *s)
{
	sb_append(sb, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };

			sb_append(sb, e, 2);
		} else if (c < 0x20) {
			sb_printf(sb, "\\u%04x", c);
		} else {
			sb_append(sb, s, 1);
		}
	}
	sb_append(sb, "\"", 1);
}

static void member(struct json *j, const char *key)
{
	if (j->need_comma[j->depth])
		sb_append(j->sb, ",", 1);
	j->need_comma[j->depth] = true;
	if (key) {
		put_string(j->sb, key);
		sb_append(j->sb, ":", 1);
	}
}

static void begin(struct json *j, const char *key, const char *c)
{
	member(j, key);
	sb_append(j->sb, c, 1);
	if (j->depth + 1 < sizeof(j->need_comma))
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void end(struct json *j, const char *c)
{
	if (j->depth)
		j->depth--;
	sb_append(j->sb, c, 1);
}

void json_obj_begin(struct json *j, const char *key) { begin(j, key, "{"); }
void json_obj_end(struct json *j) { end(j, "}"); }
void json_arr_begin(struct json *j, const char *key) { begin(j, key, "["); }
void json_arr_end(struct json *j) { end(j, "]"); }

void json_str(struct json *j, const char *key, const char *val)
{
	member(j, key);
	if (val)
		put_string(j->sb, val);
	else
		sb_append(j->sb, "null", 4);
}

void json_u64(struct json *j, const char *key, uint64_t val)
{
	member(j, key);
	sb_printf(j->sb, "%" PRIu64, val);
}

void json_null(struct json *j, const char *key)
{
	member(j, key);
	sb_append(j->sb, "null", 4);
}
