/* writer_json: the writer as JSON, a thin layer over json.h that only
 * remembers which kind of container each level is, so one end() fits both,
 * and ends the document with a newline. Labels are for people: unused. */
#include "writer.h"

static struct writer_json *wj_of(struct writer *w)
{
	return (struct writer_json *)w;
}

static void wj_begin(struct writer *w, const char *tag, const char *label, bool list)
{
	struct writer_json *wj = wj_of(w);

	if (list)
		json_arr_begin(&wj->j, tag);
	else
		json_obj_begin(&wj->j, tag);
	wj->list[wj->j.depth] = list;
}

static void wj_end(struct writer *w)
{
	struct writer_json *wj = wj_of(w);

	if (wj->list[wj->j.depth])
		json_arr_end(&wj->j);
	else
		json_obj_end(&wj->j);
	if (!wj->j.depth)
		sb_append(wj->j.sb, "\n", 1);
}

static void wj_str(struct writer *w, const char *tag, const char *label, const char *val)
{
	json_str(&wj_of(w)->j, tag, val);
}

static void wj_u64(struct writer *w, const char *tag, const char *label, uint64_t val)
{
	json_u64(&wj_of(w)->j, tag, val);
}

static void wj_null(struct writer *w, const char *tag, const char *label)
{
	json_null(&wj_of(w)->j, tag);
}

static const struct writer_ops wj_ops = {
	.begin = wj_begin,
	.end = wj_end,
	.str = wj_str,
	.u64 = wj_u64,
	.secs = wj_u64,
	.null = wj_null,
};

void writer_json_init(struct writer_json *wj, struct strbuf *out)
{
	wj->w.ops = &wj_ops;
	json_init(&wj->j, out);
	wj->list[0] = false;
}
