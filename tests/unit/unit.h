/* unit: the CUnit suites of mslbd; each function registers one suite. */
#ifndef MSLB_TEST_UNIT_H
#define MSLB_TEST_UNIT_H

#include <CUnit/CUnit.h>

void suite_csum(void);
void suite_pkt(void);
void suite_xlate(void);
void suite_lpm(void);
void suite_config(void);
void suite_config_redirect(void);
void suite_lb(void);
void suite_io(void);
void suite_maglev(void);
void suite_mptcp(void);
void suite_offload(void);
void suite_afp(void);
void suite_encap(void);
void suite_gue(void);
void suite_frag(void);
void suite_reasm(void);
void suite_reasm_attack(void);
void suite_icmp(void);
void suite_gso(void);
void suite_golden_front(void);
void suite_golden_mtu(void);
void suite_golden_icmp(void);
void suite_golden_back(void);
void suite_golden_return(void);
void suite_golden_multistage(void);
void suite_golden_offload(void);
void suite_status(void);
void suite_ctl(void);
void suite_regress(void);
void suite_scale(void);
void suite_rdr(void);
void suite_p2(void);
void suite_p2keys(void);
void suite_health(void);
void suite_sockdiag(void);
void suite_persist(void);

/* Add test function fn to suite s under its own name. */
#define UNIT_ADD(s, fn) CU_add_test((s), #fn, (fn))

#endif
