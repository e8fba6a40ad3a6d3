/* fuzz_util: failing loudly and keeping the library quiet, for every
 * target: an abort() is what libFuzzer saves an input for. */
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz invariant broken: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void quiet_sink(int level, const char *msg)
{
	(void)level;
	(void)msg;
}

void fuzz_quiet(void)
{
	log_set_sink(quiet_sink);
}
