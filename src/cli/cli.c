/* What the subcommands share: where the state (database and work
 * directories) lives when no --state-dir is given. */
#include <stdlib.h>

#include "cwld/cli.h"
#include "cwld/fs.h"
#include "cwld/xmalloc.h"

char *
cli_state_dir(const char *opt)
{
	const char *e;

	if (opt)
		return fs_abspath(opt);
	if ((e = getenv("CWLD_STATE_DIR")) && *e)
		return fs_abspath(e);
	if ((e = getenv("XDG_DATA_HOME")) && *e)
		return xasprintf("%s/cwld", e);
	if ((e = getenv("HOME")) && *e)
		return xasprintf("%s/.local/share/cwld", e);
	return xstrdup("/tmp/cwld");
}
