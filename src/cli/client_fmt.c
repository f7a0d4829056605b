/* The daemon clients' helpers that need no network (see client_fmt.h):
 * API times to local time and spans, aligned tables, labels and process
 * names for people, and the Server-Sent Events reader behind
 * `cwld submit --wait`. Talking HTTP is left to cmd_client.c. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cwld/client_fmt.h"
#include "cwld/progress.h"
#include "cwld/uri.h"
#include "cwld/xmalloc.h"

/* n decimal digits at p into *out; -1 when one of them is not a digit. */
static int
client_fmt_digits(const char *p, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

int
client_fmt_parse_time(const char *s, int64_t *ms)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, frac = 0, scale = 100, oh = 0, om = 0, sign = 0, v;
	const char *p;
	time_t t;

	if (s == NULL || strlen(s) < 19 ||
	    client_fmt_digits(s, 4, &y) < 0 || s[4] != '-' ||
	    client_fmt_digits(s + 5, 2, &mo) < 0 || s[7] != '-' ||
	    client_fmt_digits(s + 8, 2, &d) < 0 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    client_fmt_digits(s + 11, 2, &h) < 0 || s[13] != ':' ||
	    client_fmt_digits(s + 14, 2, &mi) < 0 || s[16] != ':' ||
	    client_fmt_digits(s + 17, 2, &sec) < 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		/* Milliseconds from the first three digits; more are allowed. */
		if (!isdigit((unsigned char)p[1]))
			return -1;
		for (p++; isdigit((unsigned char)*p); p++) {
			if (scale > 0) {
				frac += (*p - '0') * scale;
				scale /= 10;
			}
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (client_fmt_digits(p + 1, 2, &oh) < 0)
			return -1;
		p += 3;
		if (*p == ':')
			p++;
		if (client_fmt_digits(p, 2, &om) < 0 || oh > 23 || om > 59)
			return -1;
		p += 2;
	}
	if (*p != '\0')
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	v = sign != 0 ? sign * (oh * 3600 + om * 60) : 0;
	*ms = ((int64_t)t - v) * 1000 + frac;
	return 0;
}

const char *
client_fmt_local_time(const char *s, char *buf, size_t len)
{
	int64_t ms;
	time_t t;
	struct tm tm;

	if (len == 0)
		return buf;
	if (client_fmt_parse_time(s, &ms) < 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	/* Seconds are cut, not rounded, as clocks show them. */
	t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	if (localtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "-");
	return buf;
}

const char *
client_fmt_span(const char *start, const char *end, int64_t now_ms, char *buf,
    size_t len)
{
	int64_t a, b = now_ms;

	if (client_fmt_parse_time(start, &a) < 0 ||
	    (end != NULL && client_fmt_parse_time(end, &b) < 0)) {
		if (len > 0)
			snprintf(buf, len, "-");
		return buf;
	}
	return progress_fmt_elapsed(b - a, buf, len);
}

static int
client_fmt_strcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *
client_fmt_labels(const json_t *labels)
{
	const char **keys = NULL;
	const char *k;
	json_t *v;
	size_t n = 0, i, len = 0, off = 0;
	char *out, **vals;

	if (!json_is_object(labels) || json_object_size(labels) == 0)
		return xstrdup("");
	keys = xreallocarray(NULL, json_object_size(labels), sizeof *keys);
	json_object_foreach((json_t *)labels, k, v)
		keys[n++] = k;
	qsort(keys, n, sizeof *keys, client_fmt_strcmp);
	vals = xreallocarray(NULL, n, sizeof *vals);
	for (i = 0; i < n; i++) {
		v = json_object_get(labels, keys[i]);
		vals[i] = json_is_string(v) ? xstrdup(json_string_value(v)) :
		    json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		if (vals[i] == NULL)
			vals[i] = xstrdup("?");
		len += strlen(keys[i]) + strlen(vals[i]) + 2;
	}
	out = xmalloc(len + 1);
	for (i = 0; i < n; i++) {
		off += (size_t)snprintf(out + off, len + 1 - off, "%s%s=%s",
		    i > 0 ? "," : "", keys[i], vals[i]);
		free(vals[i]);
	}
	out[off] = '\0';
	free(vals);
	free(keys);
	return out;
}

int
client_fmt_label_split(const char *kv, char **key, char **value)
{
	const char *eq = strchr(kv, '=');

	if (eq == NULL || eq == kv)
		return -1;
	*key = xstrndup(kv, (size_t)(eq - kv));
	*value = xstrdup(eq + 1);
	return 0;
}

static int
client_fmt_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
client_fmt_process_name(const char *uri)
{
	const char *frag, *seg, *end;
	char *out, *o;
	int hi, lo;

	if (uri == NULL || *uri == '\0')
		return xstrdup("-");
	frag = uri_fragment(uri);
	end = frag != NULL ? frag - 1 : uri + strlen(uri);
	if (uri_has_scheme(uri)) {
		const char *q = memchr(uri, '?', (size_t)(end - uri));

		if (q != NULL)
			end = q;
	}
	/* A trailing '/' (a directory URL) is kept out of the segment. */
	while (end > uri && end[-1] == '/')
		end--;
	for (seg = end; seg > uri && seg[-1] != '/'; seg--)
		;
	if (seg == end)
		return xstrdup(uri);
	out = xmalloc((size_t)(end - seg) + (frag ? strlen(frag) + 1 : 0) + 1);
	for (o = out; seg < end; seg++) {
		if (seg[0] == '%' && end - seg >= 3 &&
		    (hi = client_fmt_hex((unsigned char)seg[1])) >= 0 &&
		    (lo = client_fmt_hex((unsigned char)seg[2])) >= 0 && (hi | lo) != 0) {
			*o++ = (char)(hi << 4 | lo);
			seg += 2;
		} else {
			*o++ = *seg;
		}
	}
	if (frag != NULL) {
		*o++ = '#';
		memcpy(o, frag, strlen(frag));
		o += strlen(frag);
	}
	*o = '\0';
	return out;
}

int
client_fmt_state_final(const char *state)
{
	return state != NULL && (strcmp(state, "success") == 0 ||
	    strcmp(state, "failed") == 0 || strcmp(state, "cancelled") == 0);
}

struct client_fmt_table {
	size_t ncols;
	size_t nrows; /* the header included */
	size_t cap;   /* rows */
	char **cells; /* nrows * ncols */
};

static void
client_fmt_table_push(struct client_fmt_table *t, const char *const *cells)
{
	size_t c;
	char *s;
	unsigned char *u;

	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = xreallocarray(t->cells, t->cap, t->ncols * sizeof *t->cells);
	}
	for (c = 0; c < t->ncols; c++) {
		s = xstrdup(cells[c] != NULL ? cells[c] : "-");
		for (u = (unsigned char *)s; *u; u++) {
			if (*u < 0x20 || *u == 0x7f)
				*u = ' ';
		}
		t->cells[t->nrows * t->ncols + c] = s;
	}
	t->nrows++;
}

struct client_fmt_table *
client_fmt_table_new(size_t ncols, const char *const *headers)
{
	struct client_fmt_table *t = xcalloc(1, sizeof *t);

	t->ncols = ncols > 0 ? ncols : 1;
	client_fmt_table_push(t, headers);
	return t;
}

void
client_fmt_table_add(struct client_fmt_table *t, const char *const *cells)
{
	client_fmt_table_push(t, cells);
}

size_t
client_fmt_table_rows(const struct client_fmt_table *t)
{
	return t->nrows - 1;
}

/* Characters, not bytes: UTF-8 continuation bytes do not count. */
static size_t
client_fmt_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return n;
}

char *
client_fmt_table_render(const struct client_fmt_table *t)
{
	size_t *w = xcalloc(t->ncols, sizeof *w);
	size_t r, c, len = 0, off = 0, cw, pad;
	const char *cell;
	char *out;

	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			cell = t->cells[r * t->ncols + c];
			if ((cw = client_fmt_width(cell)) > w[c])
				w[c] = cw;
			len += strlen(cell);
		}
	}
	for (c = 0; c < t->ncols; c++)
		len += (w[c] + 2) * t->nrows;
	out = xmalloc(len + t->nrows + 1);
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			cell = t->cells[r * t->ncols + c];
			memcpy(out + off, cell, strlen(cell));
			off += strlen(cell);
			if (c + 1 == t->ncols)
				break;
			pad = w[c] - client_fmt_width(cell) + 2;
			memset(out + off, ' ', pad);
			off += pad;
		}
		/* Empty cells at the end leave padding: no line ends in blanks. */
		while (off > 0 && out[off - 1] == ' ')
			off--;
		out[off++] = '\n';
	}
	out[off] = '\0';
	free(w);
	return out;
}

void
client_fmt_table_free(struct client_fmt_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

struct client_fmt_sse {
	size_t max;
	client_fmt_sse_cb cb;
	void *arg;
	char *line;   /* the line being read, NUL-terminated */
	size_t llen, lcap;
	char *event;  /* the pending event's name; NULL: "message" */
	char *data;   /* the pending event's data lines, each ending in '\n' */
	size_t dlen, dcap;
	int after_cr; /* the last byte ended a line with CR: a LF next is its pair */
};

struct client_fmt_sse *
client_fmt_sse_new(size_t max, client_fmt_sse_cb cb, void *arg)
{
	struct client_fmt_sse *p = xcalloc(1, sizeof *p);

	p->max = max;
	p->cb = cb;
	p->arg = arg;
	p->lcap = 256;
	p->line = xmalloc(p->lcap);
	p->dcap = 256;
	p->data = xmalloc(p->dcap);
	return p;
}

void
client_fmt_sse_free(struct client_fmt_sse *p)
{
	if (p == NULL)
		return;
	free(p->line);
	free(p->event);
	free(p->data);
	free(p);
}

static void
client_fmt_sse_data(struct client_fmt_sse *p, const char *v, size_t n)
{
	while (p->dlen + n + 2 > p->dcap) {
		p->dcap *= 2;
		p->data = xreallocarray(p->data, p->dcap, 1);
	}
	memcpy(p->data + p->dlen, v, n);
	p->dlen += n;
	p->data[p->dlen++] = '\n';
	p->data[p->dlen] = '\0';
}

/* One complete line (in p->line): a field, a comment, or the blank line
 * that dispatches the pending event. */
static int
client_fmt_sse_line(struct client_fmt_sse *p)
{
	char *colon, *v;
	int rc = 0;

	p->line[p->llen] = '\0';
	if (p->llen == 0) {
		if (p->dlen > 0) {
			p->data[--p->dlen] = '\0'; /* the last line's '\n' */
			rc = p->cb(p->arg, p->event != NULL ? p->event : "message", p->data);
		}
		p->dlen = 0;
		free(p->event);
		p->event = NULL;
		return rc;
	}
	p->llen = 0;
	if (p->line[0] == ':')
		return 0;
	if ((colon = strchr(p->line, ':')) != NULL) {
		*colon = '\0';
		v = colon + 1;
		if (*v == ' ')
			v++;
	} else {
		v = p->line + strlen(p->line);
	}
	if (strcmp(p->line, "event") == 0) {
		free(p->event);
		p->event = xstrdup(v);
	} else if (strcmp(p->line, "data") == 0) {
		client_fmt_sse_data(p, v, strlen(v));
	}
	return 0;
}

int
client_fmt_sse_feed(struct client_fmt_sse *p, const char *bytes, size_t n)
{
	size_t i;
	int rc;
	char ch;

	for (i = 0; i < n; i++) {
		ch = bytes[i];
		if (p->after_cr) {
			p->after_cr = 0;
			if (ch == '\n')
				continue;
		}
		if (ch == '\r' || ch == '\n') {
			p->after_cr = ch == '\r';
			if ((rc = client_fmt_sse_line(p)) != 0)
				return rc;
			continue;
		}
		if (p->llen + p->dlen + 2 > p->max)
			return -1;
		if (p->llen + 1 >= p->lcap) {
			p->lcap *= 2;
			p->line = xreallocarray(p->line, p->lcap, 1);
		}
		p->line[p->llen++] = ch;
	}
	return 0;
}
