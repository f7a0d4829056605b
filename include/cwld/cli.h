/* Subcommands of the one cwld binary: each lives in src/cli/cmd_<name>.c and
 * is listed in the table in src/cli/main.c. */
#ifndef CWLD_CLI_H
#define CWLD_CLI_H
#include <stdint.h>

/* Each returns the process exit status (CWLD_EXIT_* from err.h). argv[0] is
 * the subcommand name; getopt_long is used inside; -h/--help prints usage to
 * stdout and returns 0. */
/* --state-dir DIR, else $CWLD_STATE_DIR, else $XDG_DATA_HOME/cwld, else
 * ~/.local/share/cwld, made absolute. New string. */
char *cli_state_dir(const char *opt);
/* --cores N (a positive number, fractions allowed, at most 1000000) and
 * --ram MIB (a whole number of MiB from 1 to 2^40) for command cmd: 0 with
 * the value in *out, or -1 after saying on stderr what is wrong. */
int cli_parse_cores(const char *cmd, const char *v, double *out);
int cli_parse_ram(const char *cmd, const char *v, int64_t *out);
/* --s3-addressing path|virtual-host: 0 with S3_ADDR_* in *out, or -1 after
 * saying on stderr what is wrong. */
int cli_parse_s3_addressing(const char *cmd, const char *v, int *out);

int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_dag(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_dockerfile(int argc, char **argv);
int cmd_serve(int argc, char **argv);
/* Clients of a running daemon (src/cli/cmd_client.c, over its HTTP API). */
int cmd_submit(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_cancel(int argc, char **argv);

#endif
