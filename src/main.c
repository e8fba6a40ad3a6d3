/* mslbd: multi-stage transparent server load balancer. */
#include "cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
