/* mslbd: multi-stage transparent server load balancer. */
#include "daemon/cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
