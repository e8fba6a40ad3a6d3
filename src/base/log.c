/* log: to syslog and/or stderr, or to a callback. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static int max_level = LOG_INFO;
static int use_syslog, use_stderr = 1;
static log_sink_fn sink;

void log_setup(int level, int to_syslog, int to_stderr)
{
	max_level = level;
	if (to_syslog && !use_syslog)
		openlog("mslbd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	use_syslog = to_syslog;
	use_stderr = to_stderr;
}

void log_set_sink(log_sink_fn fn)
{
	sink = fn;
}

static const char *level_name(int level)
{
	switch (level) {
	case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_INFO: return "info";
	default: return "debug";
	}
}

void log_msg(int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (sink) {
		sink(level, buf);
		return;
	}
	if (use_syslog)
		syslog(level, "%s", buf);
	if (use_stderr)
		fprintf(stderr, "mslbd: %s: %s\n", level_name(level), buf);
}
