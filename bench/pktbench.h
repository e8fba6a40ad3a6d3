/* pktbench.h: the modes of bench/pktbench in other files. */
#ifndef MSLB_PKTBENCH_H
#define MSLB_PKTBENCH_H

/* pktbench scale MILLIONS N... | pktbench load FILE... (pktscale.c). */
int pktbench_size(int argc, char **argv);

#endif
