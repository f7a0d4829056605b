/* The Engine API's JSON-lines answers cut into lines as the bytes arrive,
 * and a pull's progress kept per layer and summed. What a line means for
 * the operation (errors, the loaded image) is docker_image.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cwld/docker_stream.h"
#include "cwld/xmalloc.h"

/* Layers of one image kept at most: the answer is outside input. */
#define DOCKER_STREAM_MAX_LAYERS 4096

struct docker_stream_pull_layer {
	char *id;
	long long current, total; /* downloaded bytes; total 0 while unknown */
	int done;                 /* "Pull complete" or "Already exists" */
};

/* ---- lines ------------------------------------------------------------------ */

void
docker_stream_init(struct docker_stream *s)
{
	memset(s, 0, sizeof *s);
}

void
docker_stream_release(struct docker_stream *s)
{
	free(s->line);
	docker_stream_init(s);
}

void
docker_stream_feed(struct docker_stream *s, const char *data, size_t len,
    docker_stream_line_fn fn, void *arg)
{
	const char *nl;
	size_t n;

	while (len > 0) {
		nl = memchr(data, '\n', len);
		n = nl != NULL ? (size_t)(nl - data) : len;
		if (!s->dropping && n > DOCKER_STREAM_MAX_LINE - s->len) {
			s->dropping = 1;
			s->len = 0;
		}
		if (!s->dropping) {
			if (s->len + n + 1 > s->cap) {
				s->cap = 2 * (s->len + n + 1);
				if (s->cap < 4096)
					s->cap = 4096;
				s->line = xreallocarray(s->line, s->cap, 1);
			}
			memcpy(s->line + s->len, data, n);
			s->len += n;
		}
		if (nl == NULL)
			break;
		if (!s->dropping)
			fn(arg, s->line, s->len);
		s->len = 0;
		s->dropping = 0;
		data = nl + 1;
		len -= n + 1;
	}
}

void
docker_stream_end(struct docker_stream *s, docker_stream_line_fn fn, void *arg)
{
	if (s->len > 0 && !s->dropping)
		fn(arg, s->line, s->len);
	s->len = 0;
	s->dropping = 0;
}

/* ---- a pull's progress --------------------------------------------------------- */

/* The layer named id; with *create, a new one when unknown (*create then
 * stays 1, else becomes 0). NULL when unknown and not made. */
static struct docker_stream_pull_layer *
docker_stream_pull_layer(struct docker_stream_pull *p, const char *id, int *create)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->layers[i].id, id) == 0) {
			*create = 0;
			return &p->layers[i];
		}
	if (!*create || p->n >= DOCKER_STREAM_MAX_LAYERS)
		return NULL;
	if (p->n == p->cap) {
		p->cap = p->cap != 0 ? 2 * p->cap : 8;
		p->layers = xreallocarray(p->layers, p->cap, sizeof *p->layers);
	}
	memset(&p->layers[p->n], 0, sizeof p->layers[p->n]);
	p->layers[p->n].id = xstrdup(id);
	return &p->layers[p->n++];
}

int
docker_stream_pull_line(struct docker_stream_pull *p, const json_t *line)
{
	/* statuses that name a layer by its id ("Pulling from" names a tag) */
	static const char *const known[] = { "Pulling fs layer", "Waiting",
	    "Downloading", "Verifying Checksum", "Download complete",
	    "Extracting", "Pull complete", "Already exists" };
	struct docker_stream_pull_layer *l, was;
	const char *status = json_string_value(json_object_get(line, "status"));
	const char *id = json_string_value(json_object_get(line, "id"));
	const json_t *detail = json_object_get(line, "progressDetail");
	json_int_t cur, tot;
	size_t i;
	int create = 0;

	if (status == NULL || id == NULL)
		return 0;
	for (i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(status, known[i]) == 0)
			create = 1;
	l = docker_stream_pull_layer(p, id, &create);
	if (l == NULL)
		return 0;
	was = *l;
	if (strcmp(status, "Downloading") == 0) {
		cur = json_integer_value(json_object_get(detail, "current"));
		tot = json_integer_value(json_object_get(detail, "total"));
		if (tot > 0) {
			l->total = (long long)tot;
			l->current = cur < 0 ? 0 : cur > tot ? (long long)tot :
			    (long long)cur;
		}
	} else if (strcmp(status, "Verifying Checksum") == 0 ||
	    strcmp(status, "Download complete") == 0 ||
	    strcmp(status, "Extracting") == 0) {
		l->current = l->total;
	} else if (strcmp(status, "Pull complete") == 0) {
		l->current = l->total;
		l->done = 1;
	} else if (strcmp(status, "Already exists") == 0) {
		l->current = l->total = 0;
		l->done = 1;
	}
	return create || l->current != was.current || l->total != was.total ||
	    l->done != was.done;
}

void
docker_stream_pull_sum(const struct docker_stream_pull *p,
    struct docker_stream_pull_sum *sum)
{
	size_t i;

	memset(sum, 0, sizeof *sum);
	for (i = 0; i < p->n; i++) {
		sum->bytes_done += p->layers[i].current;
		sum->bytes_total += p->layers[i].total;
		sum->layers_done += p->layers[i].done;
	}
	sum->layers_total = (int)p->n;
}

const char *
docker_stream_pull_text(const struct docker_stream_pull_sum *sum, char *buf,
    size_t size)
{
	static const struct { double div; const char *unit; } units[] = {
		{ 1e3, "kB" }, { 1e6, "MB" }, { 1e9, "GB" } };
	size_t u = 0;

	if (size == 0)
		return buf;
	if (sum->bytes_total <= 0) {
		snprintf(buf, size, "(%d/%d layers)", sum->layers_done,
		    sum->layers_total);
		return buf;
	}
	while (u + 1 < sizeof units / sizeof units[0] &&
	    (double)sum->bytes_total >= units[u + 1].div)
		u++;
	snprintf(buf, size, "%.1f/%.1f %s (%d/%d layers)",
	    (double)sum->bytes_done / units[u].div,
	    (double)sum->bytes_total / units[u].div, units[u].unit,
	    sum->layers_done, sum->layers_total);
	return buf;
}

void
docker_stream_pull_release(struct docker_stream_pull *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->layers[i].id);
	free(p->layers);
	memset(p, 0, sizeof *p);
}
