/* status: what `mslbd status` shows, as a table for people or as JSON. */
#ifndef MSLB_STATUS_H
#define MSLB_STATUS_H

#include <stdint.h>

#include "base/strbuf.h"
#include "io/io.h"
#include "io/neigh.h"
#include "lb/lb.h"
#include "health/health.h"
#include "redirect/rdr.h"

struct status_info {
	long pid;
	uint64_t uptime_s;
	const char *config_file;
	const char *loaded_at;		/* when the running config was loaded */
	unsigned reloads, reload_failures;
	const struct mslb_lb *lb;
	const struct io_backend *io;
	const struct io_backend *const *afp;	/* io.af_packet interfaces */
	unsigned n_afp;
	bool has_neigh;
	struct neigh_stats neigh;		/* next-hop cache, with has_neigh */
	const struct rdr *rdr;			/* the redirection protocol, or NULL */
	double now;				/* its clock, and the health module's */
	const struct health *health;		/* next hop states, or NULL */
};

struct writer;

/* Every field, in order, to any writer (base/writer.h). */
void status_write(const struct status_info *s, struct writer *w);
/* The same through the text writer and the JSON writer. */
void status_text(const struct status_info *s, struct strbuf *out);
void status_json(const struct status_info *s, struct strbuf *out);

#endif
