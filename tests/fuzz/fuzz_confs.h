/* fuzz_confs: the configs fuzz_path runs its packets through, one per role
 * and mode, written with the golden suites' cast so that their packets
 * (and the seed corpus made from them) hit services and back addresses. */
#ifndef MSLB_FUZZ_CONFS_H
#define MSLB_FUZZ_CONFS_H

struct fz_conf {
	const char *name;
	const char *text;
};

extern const struct fz_conf fz_confs[];
extern const unsigned fz_n_confs;

/* Index of the config of this name, or -1. */
int fz_conf_index(const char *name);

#endif
