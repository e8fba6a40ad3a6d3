/* json: a minimal streaming JSON writer onto a strbuf; it tracks commas so
 * callers only say what comes next. */
#ifndef MSLB_JSON_H
#define MSLB_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "strbuf.h"

struct json {
	struct strbuf *sb;
	unsigned depth;
	bool need_comma[16];
};

void json_init(struct json *j, struct strbuf *sb);
void json_obj_begin(struct json *j, const char *key);	/* key NULL inside arrays / at top */
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
void json_str(struct json *j, const char *key, const char *val);	/* NULL val -> null */
void json_u64(struct json *j, const char *key, uint64_t val);
void json_null(struct json *j, const char *key);

#endif
