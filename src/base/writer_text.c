/* writer_text: the writer as lines for people. Only layout lives here
 * (labels, titles, indentation, wrapping), nothing about what is written,
 * so every field the JSON has shows here too, without a second list. */
#include "writer.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define WIDTH 100

static struct writer_text *wt_of(struct writer *w)
{
	return (struct writer_text *)w;
}

static void label_of(const char *tag, const char *label, char *buf, size_t len)
{
	snprintf(buf, len, "%s", label ? label : tag ? tag : "");
	if (!label)
		for (char *p = buf; *p; p++)
			if (*p == '_')
				*p = ' ';
}

static void put_s(struct writer_text *t, const char *s)
{
	sb_append(t->out, s, strlen(s));
}

/* The nearest object at or above the innermost level. */
static unsigned obj_depth(const struct writer_text *t)
{
	unsigned d = t->depth;

	while (d && t->f[d].list)
		d--;
	return d;
}

static void line_end(struct writer_text *t)
{
	if (!t->line_owner)
		return;
	if (t->line_bare)
		put_s(t, ":");
	put_s(t, "\n");
	t->line_owner = 0;
}

static void line_begin(struct writer_text *t, unsigned owner, unsigned indent, const char *label)
{
	line_end(t);
	t->line_start = t->out->len;
	sb_printf(t->out, "%*s%s", (int)indent, "", label);
	t->line_owner = owner;
	t->line_bare = label[0] != '\0';
	t->sep = "";
}

/* One field of the object at depth d: "label pre+val", or "pre+val" for an
 * empty label; on the object's own line while it is open, else on a line
 * of its own below the object's children. A line too long goes on below,
 * after a comma, unless wrap is false (a list's later values). */
static void put(struct writer_text *t, unsigned d, const char *label, const char *pre, const char *val, bool wrap)
{
	size_t n = (label[0] ? strlen(label) + 1 : 0) + strlen(pre) + strlen(val);
	unsigned cont = t->f[d].indent + 2;

	if (t->line_owner != d)
		line_begin(t, d, cont, "");
	if (t->line_bare) {
		put_s(t, label[0] ? ": " : " ");
		t->line_bare = false;
	} else if (wrap && t->sep[0] && t->out->len - t->line_start + strlen(t->sep) + n > WIDTH) {
		put_s(t, ",");
		line_begin(t, d, cont, "");
	} else {
		put_s(t, t->sep);
	}
	if (label[0])
		sb_printf(t->out, "%s ", label);
	put_s(t, pre);
	put_s(t, val);
	t->sep = ", ";
}

static void value(struct writer_text *t, const char *tag, const char *label, const char *val)
{
	struct writer_text_frame *f = &t->f[t->depth];
	char l[sizeof(f->label)];

	if (f->list) {
		put(t, obj_depth(t), f->n ? "" : f->label, f->n ? "" : "[", val, !f->n);
		f->n++;
		return;
	}
	label_of(tag, label, l, sizeof(l));
	put(t, t->depth, l, "", val, true);
}

static void wt_begin(struct writer *w, const char *tag, const char *label, bool list)
{
	struct writer_text *t = wt_of(w);
	struct writer_text_frame *f;
	unsigned parent = obj_depth(t);

	if (t->depth + 1 < WRITER_DEPTH)
		t->depth++;
	f = &t->f[t->depth];
	f->list = list;
	f->n = 0;
	label_of(tag, label, f->label, sizeof(f->label));
	if (list)
		return;
	/* The outermost object's children start at the margin, like it. */
	f->indent = parent > 1 ? t->f[parent].indent + 2 : 0;
	line_begin(t, t->depth, f->indent, f->label);
}

static void wt_end(struct writer *w)
{
	struct writer_text *t = wt_of(w);
	struct writer_text_frame *f = &t->f[t->depth];

	if (!f->list)
		line_end(t);
	else if (f->n)
		put_s(t, "]");
	if (t->depth)
		t->depth--;
}

static void wt_str(struct writer *w, const char *tag, const char *label, const char *val)
{
	if (val)
		value(wt_of(w), tag, label, val);
}

static void wt_u64(struct writer *w, const char *tag, const char *label, uint64_t val)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, val);
	value(wt_of(w), tag, label, buf);
}

static void wt_secs(struct writer *w, const char *tag, const char *label, uint64_t t)
{
	char buf[48];

	if (t >= 86400)
		snprintf(buf, sizeof(buf), "%" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64,
			 t / 86400, t / 3600 % 24, t / 60 % 60, t % 60);
	else
		snprintf(buf, sizeof(buf), "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, t / 3600, t / 60 % 60, t % 60);
	value(wt_of(w), tag, label, buf);
}

static void wt_null(struct writer *w, const char *tag, const char *label)
{
}

static const struct writer_ops wt_ops = {
	.begin = wt_begin,
	.end = wt_end,
	.str = wt_str,
	.u64 = wt_u64,
	.secs = wt_secs,
	.null = wt_null,
};

void writer_text_init(struct writer_text *wt, struct strbuf *out)
{
	memset(wt, 0, sizeof(*wt));
	wt->w.ops = &wt_ops;
	wt->out = out;
	wt->sep = "";
}
