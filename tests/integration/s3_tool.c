/* s3_tool: drives the s3 module from the command line for
 * tests/integration/test_s3.sh, on one event loop, every transfer of a
 * command at once. Not installed; built only with the tests.
 *
 *   s3_tool [options] put FILE s3://B/K [FILE s3://B/K ...]
 *   s3_tool [options] get s3://B/K FILE [s3://B/K FILE ...]
 *   s3_tool [options] head s3://B/K
 *   s3_tool [options] ls s3://B/PREFIX
 *   s3_tool [options] config
 *
 * Options: --endpoint URL, --region R, --access-key K, --secret-key S,
 * --session-token T, --profile P, --path-style, --vhost, --threshold BYTES,
 * --part-size BYTES, --concurrency N, --attempts N, --retry-ms MS,
 * --max-keys N, --delimiter D, --cancel-after-ms MS (cancels the transfers
 * then, to test s3_cancel). A line per result on stdout; errors on stderr
 * and exit status 1. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cwld/err.h"
#include "cwld/log.h"
#include "cwld/s3.h"
#include "cwld/xmalloc.h"

struct tool_xfer {
	struct tool *t;
	char *what;        /* "put s3://b/k" */
	struct s3_op *op;
};

struct tool {
	struct event_base *base;
	int pending;
	int failed;
	long listed;
	struct tool_xfer *xf;
	int nxf;
};

static void
tool_done(void *arg, const struct s3_result *r)
{
	struct tool_xfer *x = arg;

	x->op = NULL;
	if (r->error != NULL) {
		fprintf(stderr, "%s\n", r->error);
		printf("%s: failed code=%s status=%ld attempts=%d\n", x->what,
		    r->code, r->status, r->attempts);
		x->t->failed = 1;
	} else {
		printf("%s: ok size=%" PRId64 " parts=%d etag=%s sha256=%s "
		    "attempts=%d\n", x->what, r->size, r->parts, r->etag,
		    r->checksum_sha256, r->attempts);
	}
	fflush(stdout);
	if (--x->t->pending == 0)
		event_base_loopbreak(x->t->base);
}

static int
tool_each(void *arg, const struct s3_object *o)
{
	struct tool_xfer *x = arg;

	if (o->is_prefix)
		printf("PRE %s\n", o->key);
	else
		printf("%" PRId64 " %s %s\n", o->size, o->key, o->etag);
	x->t->listed++;
	return 0;
}

static void
tool_cancel_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tool *t = arg;
	int i;

	(void)fd;
	(void)what;
	for (i = 0; i < t->nxf; i++) {
		if (t->xf[i].op == NULL)
			continue;
		s3_cancel(t->xf[i].op);
		t->xf[i].op = NULL;
		printf("%s: cancelled\n", t->xf[i].what);
		t->failed = 1;
		t->pending--;
	}
	fflush(stdout);
	event_base_loopbreak(t->base);
}

static void
tool_usage(void)
{
	fprintf(stderr, "usage: s3_tool [options] put FILE s3://B/K ... | "
	    "get s3://B/K FILE ... | head s3://B/K | ls s3://B/PREFIX | "
	    "config\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "endpoint", required_argument, NULL, 'e' },
		{ "region", required_argument, NULL, 'r' },
		{ "access-key", required_argument, NULL, 'a' },
		{ "secret-key", required_argument, NULL, 's' },
		{ "session-token", required_argument, NULL, 'T' },
		{ "profile", required_argument, NULL, 'p' },
		{ "path-style", no_argument, NULL, 'P' },
		{ "vhost", no_argument, NULL, 'V' },
		{ "threshold", required_argument, NULL, 't' },
		{ "part-size", required_argument, NULL, 'z' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "attempts", required_argument, NULL, 'n' },
		{ "retry-ms", required_argument, NULL, 'R' },
		{ "max-keys", required_argument, NULL, 'm' },
		{ "delimiter", required_argument, NULL, 'd' },
		{ "cancel-after-ms", required_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct s3_config cfg;
	struct cwld_err err = { 0, "" };
	struct tool t;
	struct s3 *s3 = NULL;
	struct event *cancel = NULL;
	const struct s3_resolved *rs;
	const char *cmd, *delim = NULL;
	char *bucket = NULL, *key = NULL;
	long cancel_ms = 0;
	int c, i, max_keys = 0, ret = 1;

	memset(&cfg, 0, sizeof cfg);
	memset(&t, 0, sizeof t);
	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case 'e': cfg.endpoint = optarg; break;
		case 'r': cfg.region = optarg; break;
		case 'a': cfg.access_key = optarg; break;
		case 's': cfg.secret_key = optarg; break;
		case 'T': cfg.session_token = optarg; break;
		case 'p': cfg.profile = optarg; break;
		case 'P': cfg.addressing = S3_ADDR_PATH; break;
		case 'V': cfg.addressing = S3_ADDR_VHOST; break;
		case 't': cfg.multipart_threshold = strtoll(optarg, NULL, 10); break;
		case 'z': cfg.part_size = strtoll(optarg, NULL, 10); break;
		case 'c': cfg.part_concurrency = (int)strtol(optarg, NULL, 10); break;
		case 'n': cfg.max_attempts = (int)strtol(optarg, NULL, 10); break;
		case 'R': cfg.retry_base_ms = (int)strtol(optarg, NULL, 10); break;
		case 'm': max_keys = (int)strtol(optarg, NULL, 10); break;
		case 'd': delim = optarg; break;
		case 'C': cancel_ms = strtol(optarg, NULL, 10); break;
		case 'v': log_set_level(2); break;
		default: tool_usage();
		}
	}
	if (optind >= argc)
		tool_usage();
	cmd = argv[optind++];
	t.base = event_base_new();
	s3 = s3_new(t.base, &cfg, &err);
	if (s3 == NULL) {
		fprintf(stderr, "%s\n", err.msg);
		goto out;
	}
	if (strcmp(cmd, "config") == 0) {
		rs = s3_settings(s3);
		printf("endpoint=%s\nregion=%s\naddressing=%s\ncredentials=%s\n"
		    "access_key=%s\nsession_token=%s\n", rs->endpoint,
		    rs->region, rs->path_style == S3_ADDR_PATH ? "path" :
		    "vhost", rs->cred_source,
		    rs->access_key != NULL ? rs->access_key : "",
		    rs->session_token != NULL ? "yes" : "no");
		ret = 0;
		goto out;
	}
	if ((strcmp(cmd, "put") == 0 || strcmp(cmd, "get") == 0) &&
	    (argc - optind < 2 || (argc - optind) % 2 != 0))
		tool_usage();
	if ((strcmp(cmd, "head") == 0 || strcmp(cmd, "ls") == 0) &&
	    argc - optind != 1)
		tool_usage();
	t.xf = xcalloc((size_t)(argc - optind), sizeof *t.xf);
	for (i = optind; i < argc; i += strcmp(cmd, "put") == 0 ||
	    strcmp(cmd, "get") == 0 ? 2 : 1) {
		const char *uri = strcmp(cmd, "put") == 0 ? argv[i + 1] : argv[i];
		struct tool_xfer *x = &t.xf[t.nxf];

		free(bucket);
		free(key);
		if (s3_uri_parse(uri, &bucket, &key, &err) != 0) {
			fprintf(stderr, "%s\n", err.msg);
			goto out;
		}
		x->t = &t;
		x->what = xasprintf("%s %s", cmd, uri);
		if (strcmp(cmd, "put") == 0)
			x->op = s3_put(s3, bucket, key, argv[i], tool_done, x,
			    &err);
		else if (strcmp(cmd, "get") == 0)
			x->op = s3_get(s3, bucket, key, argv[i + 1], tool_done,
			    x, &err);
		else if (strcmp(cmd, "head") == 0)
			x->op = s3_head(s3, bucket, key, tool_done, x, &err);
		else if (strcmp(cmd, "ls") == 0)
			x->op = s3_list(s3, bucket, key, delim, max_keys,
			    tool_each, tool_done, x, &err);
		else
			tool_usage();
		t.nxf++;
		if (x->op == NULL) {
			fprintf(stderr, "%s\n", err.msg);
			t.failed = 1;
			continue;
		}
		t.pending++;
	}
	if (cancel_ms > 0) {
		struct timeval tv = { cancel_ms / 1000, (cancel_ms % 1000) * 1000 };

		cancel = evtimer_new(t.base, tool_cancel_cb, &t);
		evtimer_add(cancel, &tv);
	}
	if (t.pending > 0)
		event_base_dispatch(t.base);
	if (strcmp(cmd, "ls") == 0)
		fprintf(stderr, "listed %ld\n", t.listed);
	ret = t.failed ? 1 : 0;
	/* a cancelled upload's AbortMultipartUpload: let it go out */
	if (cancel_ms > 0) {
		struct timeval tv = { 1, 0 };

		event_base_loopexit(t.base, &tv);
		event_base_dispatch(t.base);
	}
out:
	s3_free(s3);
	if (cancel != NULL)
		event_free(cancel);
	for (i = 0; i < t.nxf; i++)
		free(t.xf[i].what);
	free(t.xf);
	free(bucket);
	free(key);
	if (t.base != NULL)
		event_base_free(t.base);
	return ret;
}
