/* Identity of host processes for a daemon that outlived its predecessor:
 * /proc/sys/kernel/random/boot_id and field 22 (starttime) of
 * /proc/PID/stat, which exec does not change. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cwld/proc.h"
#include "cwld/xmalloc.h"

/* Reads at most len-1 bytes of path into buf, NUL-terminated; -1 if not. */
static int
proc_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return -1;
	do
		n = read(fd, buf, len - 1);
	while (n == -1 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* The boot id, read once; "" when unknown. */
static const char *
proc_boot_id(void)
{
	static char boot[64];
	static int done;

	if (!done) {
		if (proc_read("/proc/sys/kernel/random/boot_id", boot, sizeof boot) == 0)
			boot[strcspn(boot, "\n")] = '\0';
		else
			boot[0] = '\0';
		done = 1;
	}
	return boot;
}

char *
proc_ident(pid_t pid)
{
	char path[64], stat[1024], *p;
	int field;

	if (pid <= 0)
		return NULL;
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if (proc_read(path, stat, sizeof stat) == -1)
		return NULL;
	/* the command name may hold spaces and parentheses: fields are
	 * counted from the last ')' on, which ends field 2 */
	p = strrchr(stat, ')');
	if (p == NULL)
		return NULL;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return NULL;
	return xasprintf("%s/%.*s", proc_boot_id(), (int)strcspn(p + 1, " "), p + 1);
}

int
proc_kill_group(pid_t pid, const char *ident)
{
	const char *slash;
	char *now;
	int alive, same;

	if (pid <= 1 || ident == NULL || (slash = strchr(ident, '/')) == NULL) {
		errno = EINVAL;
		return -1;
	}
	now = proc_ident(pid);
	alive = now != NULL;
	if (alive) {
		same = strcmp(now, ident) == 0;
		free(now);
		if (!same)
			return 0; /* the pid is another process's now */
	} else if ((size_t)(slash - ident) != strlen(proc_boot_id()) ||
	    strncmp(ident, proc_boot_id(), (size_t)(slash - ident)) != 0)
		return 0; /* booted since: nothing of it can be left */
	if (kill(-pid, SIGKILL) == 0)
		return 1;
	if (errno != ESRCH)
		return -1;
	/* a leader that left its group (setpgid) is still ours */
	if (alive && kill(pid, SIGKILL) == 0)
		return 1;
	return errno == ESRCH ? 0 : -1;
}
