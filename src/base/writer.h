/* writer: structured output described once and rendered by a writer that
 * chooses the format (after lldpd's writer): the caller says which objects,
 * lists and fields come, in order, and never which format it produces.
 *
 * Every call names a field twice: its tag (the JSON key; NULL inside a
 * list) and its label for people. A NULL label is the tag with spaces for
 * underscores; an empty label "" makes a field its object's title (written
 * first, without a label); objects in a list need a label of their own. */
#ifndef MSLB_WRITER_H
#define MSLB_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "json.h"
#include "strbuf.h"

struct writer;

struct writer_ops {
	void (*begin)(struct writer *w, const char *tag, const char *label, bool list);
	void (*end)(struct writer *w);
	/* A NULL string is null, as is null(): JSON says null, the text
	 * leaves the field out. */
	void (*str)(struct writer *w, const char *tag, const char *label, const char *val);
	void (*u64)(struct writer *w, const char *tag, const char *label, uint64_t val);
	/* A duration in seconds: a number in JSON, [Nd ]HH:MM:SS in the text. */
	void (*secs)(struct writer *w, const char *tag, const char *label, uint64_t val);
	void (*null)(struct writer *w, const char *tag, const char *label);
};

struct writer {
	const struct writer_ops *ops;
};

static inline void wr_obj(struct writer *w, const char *tag, const char *label) { w->ops->begin(w, tag, label, false); }
static inline void wr_list(struct writer *w, const char *tag, const char *label) { w->ops->begin(w, tag, label, true); }
/* Ends the innermost object or list; the outermost ends with a newline. */
static inline void wr_end(struct writer *w) { w->ops->end(w); }
static inline void wr_str(struct writer *w, const char *tag, const char *label, const char *val) { w->ops->str(w, tag, label, val); }
static inline void wr_u64(struct writer *w, const char *tag, const char *label, uint64_t val) { w->ops->u64(w, tag, label, val); }
static inline void wr_secs(struct writer *w, const char *tag, const char *label, uint64_t val) { w->ops->secs(w, tag, label, val); }
static inline void wr_null(struct writer *w, const char *tag, const char *label) { w->ops->null(w, tag, label); }

#define WRITER_DEPTH 16

/* JSON on one line, through json.h. */
struct writer_json {
	struct writer w;
	struct json j;
	bool list[WRITER_DEPTH];	/* per json depth: a list, not an object */
};

void writer_json_init(struct writer_json *wj, struct strbuf *out);

/* The text for people: an object is a line "label title, label value, ..."
 * (label: when it has no title), its objects the lines below it, indented;
 * a list of values is "label [a, b]", and a list of objects its objects'
 * lines; nulls and empty lists are left out; lines wrap at 100 columns. */
struct writer_text {
	struct writer w;
	struct strbuf *out;
	unsigned depth;
	struct writer_text_frame {
		bool list;
		char label[32];		/* a list's, for its first value */
		unsigned n;		/* a list's values so far */
		unsigned indent;	/* an object's: where its own line starts */
	} f[WRITER_DEPTH];
	/* The line being written: whose it is (a depth, 0 none), where it
	 * starts in out, and what goes before its next field. */
	unsigned line_owner;
	size_t line_start;
	const char *sep;
	bool line_bare;		/* only a label so far */
};

void writer_text_init(struct writer_text *wt, struct strbuf *out);

#endif
