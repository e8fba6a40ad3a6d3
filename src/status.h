/* status: what `mslbd status` shows, as a table for people or as JSON. */
#ifndef MSLB_STATUS_H
#define MSLB_STATUS_H

#include <stdint.h>

#include "io.h"
#include "lb.h"
#include "strbuf.h"

struct status_info {
	long pid;
	uint64_t uptime_s;
	const char *config_file;
	const char *loaded_at;		/* when the running config was loaded */
	unsigned reloads, reload_failures;
	const struct mslb_lb *lb;
	const struct io_backend *io;
};

void status_text(const struct status_info *s, struct strbuf *out);
void status_json(const struct status_info *s, struct strbuf *out);

#endif
