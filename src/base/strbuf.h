/* strbuf: a growable string for status output and control replies. */
#ifndef MSLB_STRBUF_H
#define MSLB_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *p;
	size_t len, cap;
	int oom;		/* set once an append failed */
};

void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_append(struct strbuf *sb, const char *s, size_t len);
static inline const char *sb_str(const struct strbuf *sb) { return sb->p ? sb->p : ""; }

#endif
