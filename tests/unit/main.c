/* The CUnit runner: every suite, verbose; exit 1 on any failure or error. */
#include <stdio.h>

#include <CUnit/Basic.h>

#include "unit.h"

int main(void)
{
	unsigned failures, suites_failed, tests_failed;
	CU_ErrorCode err;

	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
		return 1;
	}
	suite_csum();
	suite_pkt();
	suite_xlate();
	suite_lpm();
	suite_config();
	suite_config_redirect();
	suite_lb();
	suite_io();
	suite_maglev();
	suite_mptcp();
	suite_offload();
	suite_afp();
	suite_encap();
	suite_gue();
	suite_frag();
	suite_reasm();
	suite_reasm_attack();
	suite_icmp();
	suite_gso();
	suite_golden_front();
	suite_golden_mtu();
	suite_golden_icmp();
	suite_golden_back();
	suite_golden_return();
	suite_golden_multistage();
	suite_golden_offload();
	suite_status();
	suite_ctl();
	suite_regress();
	suite_scale();
	suite_rdr();
	suite_p2();
	suite_p2keys();
	suite_health();
	suite_sockdiag();
	suite_persist();
	if (CU_get_error() != CUE_SUCCESS) {
		fprintf(stderr, "CUnit registration: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	err = CU_get_error();
	failures = CU_get_number_of_failures();
	suites_failed = CU_get_number_of_suites_failed();
	tests_failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	if (err != CUE_SUCCESS || failures || suites_failed || tests_failed) {
		fprintf(stderr, "unit tests FAILED: %u assertion(s), %u test(s), %u suite(s), error %d\n",
			failures, tests_failed, suites_failed, (int)err);
		return 1;
	}
	return 0;
}
