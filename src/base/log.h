/* log: levels from syslog.h; the sink is a swappable callback so tests and
 * fuzzers can silence or capture it. */
#ifndef MSLB_LOG_H
#define MSLB_LOG_H

#include <syslog.h>

typedef void (*log_sink_fn)(int level, const char *msg);

void log_setup(int max_level, int to_syslog, int to_stderr);
void log_set_sink(log_sink_fn fn);	/* NULL restores the default */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
