/* hostcfg: what the daemon changes on the host, and only that: the TUN
 * device's MTU, queue length and state, routes in its own tables, its policy rules and
 * the forwarding and rp_filter sysctls. It remembers what it installed so
 * a reload changes only the difference and exit removes everything. */
#ifndef MSLB_HOSTCFG_H
#define MSLB_HOSTCFG_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

/* The TUN device's queue length, packets (the kernel's default is 500). */
#define HOSTCFG_TUN_QLEN 4096

struct hostcfg;

struct nl;

struct hostcfg *hostcfg_create(const char *tun, int ifindex);
/* The TUN's TAP for UDP-tunnel super-packets (io.h), brought up with the
 * TUN: written by the daemon, read by nobody. */
void hostcfg_set_tap(struct hostcfg *h, const char *tap, int ifindex);
/* The outer families the TAP carries once up: bit 0 IPv4 (only where the
 * reverse-path check lets it), bit 1 IPv6; 0 without a TAP. */
unsigned hostcfg_tap_families(const struct hostcfg *h);
/* Make the host match cfg. On failure nothing new stays installed, err says
 * what failed, and -1 is returned. */
int hostcfg_apply(struct hostcfg *h, const struct mslb_config *cfg, char *err, size_t errlen);
/* Which families' services go into routing.announce_table (fam[0] IPv4,
 * fam[1] IPv6: a next hop of that family is usable); applied at once and
 * kept for the next hostcfg_apply. 0, or -1 with err. */
int hostcfg_announce(struct hostcfg *h, const struct mslb_config *cfg, const bool fam[2], char *err, size_t errlen);
/* Remove every route and rule installed, restore the sysctls. */
void hostcfg_remove(struct hostcfg *h);
void hostcfg_destroy(struct hostcfg *h);
/* Note the allowed tunnel sources the kernel would never let through (an
 * IPv4 address of this host: a martian source). */
void hostcfg_check_tunnel_sources(struct hostcfg *h, const struct mslb_config *cfg);
/* Its rtnetlink socket, for route lookups. */
struct nl *hostcfg_nl(struct hostcfg *h);

#endif
