/* daemon: the running state: config snapshot, data path, TUN device, host
 * changes and control socket. No event-loop calls here (loop.c owns them). */
#ifndef MSLB_DAEMON_H
#define MSLB_DAEMON_H

#include <stdbool.h>

#include "base/strbuf.h"
#include "ctl/ctl_proto.h"

struct daemon;

/* foreground: keep logging to stderr whatever log.destination says. */
struct daemon *daemon_create(const char *config_path, bool foreground);
/* Load the config, open the TUN device, configure the host, listen on the
 * control socket. On failure everything done is undone and -2 (invalid
 * configuration) or -1 (anything else) returned; the reasons were logged. */
int daemon_start(struct daemon *d);
/* Re-read the config file. On error the running config stays and msg holds
 * the errors, one per line. Returns 0 or -1. */
int daemon_reload(struct daemon *d, struct strbuf *msg);
/* Read, process and write packets until the device is drained or a bound
 * is reached. Returns -1 on a fatal device error. */
int daemon_rx(struct daemon *d);
/* The same for the k-th io.af_packet interface's ring. */
int daemon_rx_afp(struct daemon *d, unsigned k);
/* Once a second: refresh the next-hop cache, fold kernel counters. */
void daemon_tick(struct daemon *d);
unsigned daemon_afp_count(const struct daemon *d);
int daemon_afp_fd(const struct daemon *d, unsigned k);
/* Answer one parsed control request (ctl_parse_request); the reply starts
 * with "ok\n" or "error\n". */
void daemon_control(struct daemon *d, const struct ctl_req *req, struct strbuf *reply);
/* The redirection protocol: its socket (-1 without one), its datagrams
 * (as daemon_rx), and its timer, every RDR_TICK seconds. */
int daemon_rdr_fd(const struct daemon *d);
int daemon_rdr_rx(struct daemon *d);
void daemon_rdr_tick(struct daemon *d);
/* Health checks: the epoll set of their probes (watched for reading), and
 * the run: after a wake-up of that set (readable) or of the timer. Returns
 * the seconds until the next run is due. */
int daemon_health_fd(const struct daemon *d);
double daemon_health(struct daemon *d, bool readable);
/* Detached from the terminal: log only where log.destination says. */
void daemon_log_detached(struct daemon *d);
int daemon_io_fd(const struct daemon *d);
int daemon_ctl_fd(const struct daemon *d);
/* Remove everything installed on the host; close the device and socket. */
void daemon_stop(struct daemon *d);
void daemon_destroy(struct daemon *d);

#endif
