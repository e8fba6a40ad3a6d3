/* cli: the mslbd command line: run the daemon, or act as its client. */
#ifndef MSLB_CLI_H
#define MSLB_CLI_H

int cli_main(int argc, char **argv);

#endif
