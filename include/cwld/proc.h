/* Host processes known again after a restart: a pid alone may name another
 * process by then, so it is kept with an identity (the boot and the
 * process's start time) that tells a reused pid apart. */
#ifndef CWLD_PROC_H
#define CWLD_PROC_H
#include <sys/types.h>

/* "BOOT_ID/START_TICKS" of process pid, as a new string; NULL when there
 * is no such process (or /proc cannot tell). */
char *proc_ident(pid_t pid);

/* SIGKILLs the process group that pid led when its identity was ident: the
 * leader if it is still that process, else what is left of its group (a
 * group id is not handed out again while the group has members). Nothing
 * is sent when pid now names another process or the machine has booted
 * since. 1 when signalled, 0 when nothing of it is left, -1 with errno. */
int proc_kill_group(pid_t pid, const char *ident);

#endif
