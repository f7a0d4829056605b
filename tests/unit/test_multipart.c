/* multipart: bodies as python requests (urllib3 2) and curl -F really send
 * them for WES POST /runs, preamble/epilogue/padding, binary content with
 * boundary lookalikes, every truncation of a body, the part and header
 * limits, and malformed input refused with a message saying what is wrong.
 * Bodies are parsed from exact-size heap copies so ASan sees any overread. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cwld/multipart.h"
#include "cwld/xmalloc.h"

/* Parses len bytes of body from a heap copy of exactly that size, freed
 * before returning, so the parts must own their data. */
static int
mp_parse(const char *ct, const char *body, size_t len,
    struct multipart_part **parts, size_t *n, struct cwld_err *err)
{
	char *copy = xmalloc(len > 0 ? len : 1);
	int rc;

	memcpy(copy, body, len);
	rc = multipart_parse(ct, copy, len, parts, n, err);
	memset(copy, 'Z', len); /* a part still pointing here would show it */
	free(copy);
	return rc;
}

/* Part i has this name, filename, content type (NULL: none) and data. */
static void
mp_expect_part(const struct multipart_part *p, const char *name,
    const char *filename, const char *ctype, const char *data, size_t len)
{
	assert_string_equal(p->name, name);
	if (filename == NULL)
		assert_null(p->filename);
	else
		assert_string_equal(p->filename, filename);
	if (ctype == NULL)
		assert_null(p->content_type);
	else
		assert_string_equal(p->content_type, ctype);
	assert_int_equal(p->len, len);
	assert_memory_equal(p->data, data, len);
	assert_int_equal(p->data[len], '\0');
}

/* Captured from python3 requests 2.34 / urllib3 2.7:
 *   requests.Request('POST', url, data={...}, files=[('workflow_attachment',
 *       ('wf.cwl', b'...')), ('workflow_attachment',
 *       ('sub dir/in "x".txt', b'line1\r\nline2\n'))]).prepare() */
static const char requests_ct[] =
    "multipart/form-data; boundary=74d9e718ad53083c62bea5b9ca53bb66";
static const char requests_body[] =
    "--74d9e718ad53083c62bea5b9ca53bb66\r\n"
    "Content-Disposition: form-data; name=\"workflow_params\"\r\n\r\n"
    "{\"message\": \"hi\"}\r\n"
    "--74d9e718ad53083c62bea5b9ca53bb66\r\n"
    "Content-Disposition: form-data; name=\"workflow_type\"\r\n\r\n"
    "CWL\r\n"
    "--74d9e718ad53083c62bea5b9ca53bb66\r\n"
    "Content-Disposition: form-data; name=\"workflow_type_version\"\r\n\r\n"
    "v1.2\r\n"
    "--74d9e718ad53083c62bea5b9ca53bb66\r\n"
    "Content-Disposition: form-data; name=\"tags\"\r\n\r\n"
    "{\"run\": \"1\"}\r\n"
    "--74d9e718ad53083c62bea5b9ca53bb66\r\n"
    "Content-Disposition: form-data; name=\"workflow_engine_parameters\"\r\n\r\n"
    "{}\r\n"
    "--74d9e718ad53083c62bea5b9ca53bb66\r\n"
    "Content-Disposition: form-data; name=\"workflow_url\"\r\n\r\n"
    "wf.cwl\r\n"
    "--74d9e718ad53083c62bea5b9ca53bb66\r\n"
    "Content-Disposition: form-data; name=\"workflow_attachment\"; "
    "filename=\"wf.cwl\"\r\n\r\n"
    "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\n\r\n"
    "--74d9e718ad53083c62bea5b9ca53bb66\r\n"
    "Content-Disposition: form-data; name=\"workflow_attachment\"; "
    "filename=\"sub dir/in %22x%22.txt\"\r\n\r\n"
    "line1\r\nline2\n\r\n"
    "--74d9e718ad53083c62bea5b9ca53bb66--\r\n";

static void
test_requests_body(void **state)
{
	struct multipart_part *parts = NULL;
	const struct multipart_part *p;
	struct cwld_err err = { 0 };
	size_t n = 0;
	static const char wf[] =
	    "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\n";

	(void)state;
	assert_int_equal(mp_parse(requests_ct, requests_body,
	    sizeof requests_body - 1, &parts, &n, &err), 0);
	assert_int_equal(err.code, 0);
	assert_int_equal(n, 8);
	mp_expect_part(&parts[0], "workflow_params", NULL, NULL,
	    "{\"message\": \"hi\"}", 17);
	mp_expect_part(&parts[1], "workflow_type", NULL, NULL, "CWL", 3);
	mp_expect_part(&parts[2], "workflow_type_version", NULL, NULL, "v1.2",
	    4);
	mp_expect_part(&parts[3], "tags", NULL, NULL, "{\"run\": \"1\"}", 12);
	mp_expect_part(&parts[4], "workflow_engine_parameters", NULL, NULL,
	    "{}", 2);
	mp_expect_part(&parts[5], "workflow_url", NULL, NULL, "wf.cwl", 6);
	mp_expect_part(&parts[6], "workflow_attachment", "wf.cwl", NULL, wf,
	    sizeof wf - 1);
	/* urllib3 percent-encodes '"' in file names; left as sent. */
	mp_expect_part(&parts[7], "workflow_attachment",
	    "sub dir/in %22x%22.txt", NULL, "line1\r\nline2\n", 13);

	p = multipart_find(parts, n, "workflow_attachment");
	assert_ptr_equal(p, &parts[6]);
	p = multipart_find(parts, n, "workflow_type");
	assert_ptr_equal(p, &parts[1]);
	assert_null(multipart_find(parts, n, "workflow_typ"));
	assert_null(multipart_find(parts, n, "WORKFLOW_TYPE"));
	assert_null(multipart_find(NULL, 0, "tags"));
	multipart_free(parts, n);
	multipart_free(NULL, 0);
}

/* Captured from curl 7 -F workflow_type=CWL
 * -F 'workflow_params={"a":1};type=application/json' -F workflow_attachment=@wf.cwl */
static void
test_curl_body(void **state)
{
	static const char ct[] = "multipart/form-data; "
	    "boundary=------------------------3be2bea19e5ca3fb";
	static const char body[] =
	    "--------------------------3be2bea19e5ca3fb\r\n"
	    "Content-Disposition: form-data; name=\"workflow_type\"\r\n\r\n"
	    "CWL\r\n"
	    "--------------------------3be2bea19e5ca3fb\r\n"
	    "Content-Disposition: form-data; name=\"workflow_params\"\r\n"
	    "Content-Type: application/json\r\n\r\n"
	    "{\"a\":1}\r\n"
	    "--------------------------3be2bea19e5ca3fb\r\n"
	    "Content-Disposition: form-data; name=\"workflow_attachment\"; "
	    "filename=\"wf.cwl\"\r\n"
	    "Content-Type: application/octet-stream\r\n\r\n"
	    "class: Workflow\n\r\n"
	    "--------------------------3be2bea19e5ca3fb--\r\n";
	struct multipart_part *parts = NULL;
	struct cwld_err err = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(mp_parse(ct, body, sizeof body - 1, &parts, &n, &err),
	    0);
	assert_int_equal(n, 3);
	mp_expect_part(&parts[0], "workflow_type", NULL, NULL, "CWL", 3);
	mp_expect_part(&parts[1], "workflow_params", NULL, "application/json",
	    "{\"a\":1}", 7);
	mp_expect_part(&parts[2], "workflow_attachment", "wf.cwl",
	    "application/octet-stream", "class: Workflow\n", 16);
	multipart_free(parts, n);
}

/* RFC 2046's own shape: preamble, a quoted boundary with a space, padding
 * after boundary lines, and an epilogue holding what looks like a boundary;
 * header and parameter names in any case, unquoted and escaped values. */
static void
test_preamble_epilogue(void **state)
{
	static const char ct[] = "Multipart/Form-Data ; charset=utf-8; "
	    "BOUNDARY=\"simple boundary\";";
	static const char body[] =
	    "This is the preamble.  It is to be ignored.\r\n"
	    "--simple boundary \t\r\n"
	    "content-disposition: FORM-DATA; NAME=field1\r\n"
	    "X-Other: ignored\r\n"
	    "\r\n"
	    "value one\r\n"
	    "--simple boundary\r\n"
	    "CONTENT-DISPOSITION:form-data;name=\"f2\";filename=\"a\\\"b\\\\c.txt\"\r\n"
	    "content-type:   text/plain; charset=us-ascii  \r\n"
	    "\r\n"
	    "\r\n"
	    "--simple boundary--  \r\n"
	    "This is the epilogue.\r\n--simple boundary\r\n"
	    "Content-Disposition: form-data; name=\"ghost\"\r\n\r\nx\r\n";
	struct multipart_part *parts = NULL;
	struct cwld_err err = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(mp_parse(ct, body, sizeof body - 1, &parts, &n, &err),
	    0);
	assert_int_equal(n, 2);
	mp_expect_part(&parts[0], "field1", NULL, NULL, "value one", 9);
	mp_expect_part(&parts[1], "f2", "a\"b\\c.txt",
	    "text/plain; charset=us-ascii", "", 0);
	multipart_free(parts, n);
}

/* Appends len bytes to buf at *o. */
static void
mp_put(char *buf, size_t *o, const void *data, size_t len)
{
	memcpy(buf + *o, data, len);
	*o += len;
}

#define MP_PUTS(buf, o, s) mp_put((buf), (o), (s), sizeof(s) - 1)

/* Content with CR, LF, NUL, every byte value and things that begin like the
 * delimiter but are not one comes back byte for byte. */
static void
test_binary_content(void **state)
{
	static const char ct[] = "multipart/form-data; boundary=XyZb0undary";
	static const char tricky[] =
	    "\r\n" "\r" "\n" "\0" "--XyZb0undary\r\n" /* not after CRLF */
	    "\r\n-" "\r\n--" "\r\n--XyZ" "\r\n--XyZb0undar"
	    "\r\n--XyZb0undaryX\r\n"   /* boundary then more: content */
	    "\r\n--XyZb0undary \tz\r\n" /* padding then not CRLF */
	    "\r\n--XyZb0undary-\r\n"
	    "\r\n\r\n--\r\n" "\r";
	char *body = xmalloc(4096), all[256];
	struct multipart_part *parts = NULL;
	struct cwld_err err = { 0 };
	size_t n = 0, o = 0, i;

	(void)state;
	for (i = 0; i < sizeof all; i++)
		all[i] = (char)i;
	MP_PUTS(body, &o, "--XyZb0undary\r\n"
	    "Content-Disposition: form-data; name=\"workflow_attachment\"; "
	    "filename=\"blob.bin\"\r\n"
	    "Content-Type: application/octet-stream\r\n\r\n");
	mp_put(body, &o, tricky, sizeof tricky - 1);
	MP_PUTS(body, &o, "\r\n--XyZb0undary\r\n"
	    "Content-Disposition: form-data; name=\"all\"\r\n\r\n");
	mp_put(body, &o, all, sizeof all);
	MP_PUTS(body, &o, "\r\n--XyZb0undary\r\n"
	    "Content-Disposition: form-data; name=\"empty\"\r\n\r\n");
	/* The last part ends the body: no CRLF after the close delimiter. */
	MP_PUTS(body, &o, "\r\n--XyZb0undary--");

	assert_int_equal(mp_parse(ct, body, o, &parts, &n, &err), 0);
	assert_int_equal(n, 3);
	mp_expect_part(&parts[0], "workflow_attachment", "blob.bin",
	    "application/octet-stream", tricky, sizeof tricky - 1);
	mp_expect_part(&parts[1], "all", NULL, NULL, all, sizeof all);
	mp_expect_part(&parts[2], "empty", NULL, NULL, "", 0);
	multipart_free(parts, n);
	free(body);
}

/* Every proper prefix of a body that cuts off the close delimiter fails
 * cleanly; every prefix that keeps it (dropping epilogue bytes) parses. */
static void
test_truncations(void **state)
{
	static const char close[] = "--74d9e718ad53083c62bea5b9ca53bb66--";
	const char *at = strstr(requests_body, close);
	size_t keep = (size_t)(at - requests_body) + sizeof close - 1;
	size_t len = sizeof requests_body - 1, i, n;
	struct multipart_part *parts;
	struct cwld_err err;

	(void)state;
	assert_non_null(at);
	for (i = 0; i <= len; i++) {
		memset(&err, 0, sizeof err);
		parts = (struct multipart_part *)&err; /* must be reset */
		n = 99;
		if (i < keep) {
			if (mp_parse(requests_ct, requests_body, i, &parts, &n,
			    &err) != -1)
				fail_msg("prefix of %zu bytes accepted", i);
			assert_null(parts);
			assert_int_equal(n, 0);
			assert_int_equal(err.code, CWLD_EXIT_USAGE);
			assert_true(err.msg[0] != '\0');
		} else {
			if (mp_parse(requests_ct, requests_body, i, &parts, &n,
			    &err) != 0)
				fail_msg("prefix of %zu bytes: %s", i, err.msg);
			assert_int_equal(n, 8);
			multipart_free(parts, n);
		}
	}
}

struct mp_bad {
	const char *ct; /* NULL: "multipart/form-data; boundary=b" */
	const char *body;
	const char *why;
};

static void
test_malformed(void **state)
{
	static const struct mp_bad cases[] = {
		{ "application/json", "--b--", "is not multipart/form-data" },
		{ "multipart/form-dataX; boundary=b", "--b--",
		    "is not multipart/form-data" },
		{ "multipart/mixed; boundary=b", "--b--",
		    "is not multipart/form-data" },
		{ "", "--b--", "is not multipart/form-data" },
		{ "multipart/form-data", "--b--", "no boundary parameter" },
		{ "multipart/form-data; charset=utf-8", "--b--",
		    "no boundary parameter" },
		{ "multipart/form-data; boundary=", "--b--",
		    "malformed parameters" },
		{ "multipart/form-data; boundary=\"b", "--b--",
		    "malformed parameters" },
		{ "multipart/form-data boundary=b", "--b--",
		    "malformed parameters" },
		{ "multipart/form-data; boundary=\"\"", "----",
		    "1 to 70 characters" },
		{ "multipart/form-data; boundary=01234567890123456789012345"
		  "678901234567890123456789012345678901234567890", "--b--",
		    "1 to 70 characters" },
		{ "multipart/form-data; boundary=\"a\tb\"", "--b--",
		    "outside printable ASCII" },
		{ "multipart/form-data; boundary=a; Boundary=b", "--b--",
		    "two boundary parameters" },
		{ NULL, "", "body is empty" },
		{ NULL, "hello", "no boundary line '--b'" },
		{ NULL, "--bb\r\n", "no boundary line '--b'" },
		/* bare LF line ends are not boundary lines */
		{ NULL, "--b\nContent-Disposition: form-data; name=a\n\nv\n--b--\n",
		    "no boundary line" },
		{ NULL, "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n"
		    "\r\nvalue", "part 1 ('a') is not followed by a boundary" },
		{ NULL, "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n"
		    "\r\nvalue\r\n--bX\r\n", "is not followed by a boundary" },
		{ NULL, "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n"
		    "1\r\n--b\r\nContent-Disposition: form-data; name=c\r\n\r\n"
		    "2\r\n--b", "part 2 ('c') is not followed" },
		{ NULL, "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--",
		    "part 1 has no Content-Disposition header" },
		{ NULL, "--b\r\n\r\nx\r\n--b--",
		    "part 1 has no Content-Disposition header" },
		{ NULL, "--b\r\nContent-Disposition: form-data; "
		    "filename=\"x\"\r\n\r\nx\r\n--b--", "has no name" },
		{ NULL, "--b\r\nContent-Disposition: form-data; name=\"\"\r\n"
		    "\r\nx\r\n--b--", "has no name" },
		{ NULL, "--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--",
		    "has no name" },
		{ NULL, "--b\r\nContent-Disposition: attachment; name=a\r\n\r\n"
		    "x\r\n--b--", "is not form-data" },
		{ NULL, "--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\n"
		    "x\r\n--b--", "malformed Content-Disposition" },
		{ NULL, "--b\r\nContent-Disposition: form-data; name=a; name=b"
		    "\r\n\r\nx\r\n--b--", "two 'name' parameters" },
		{ NULL, "--b\r\nContent-Disposition: form-data; name=a\r\n"
		    "Content-Disposition: form-data; name=b\r\n\r\nx\r\n--b--",
		    "two Content-Disposition headers" },
		{ NULL, "--b\r\nContent-Disposition: form-data; name=a\r\n"
		    "Content-Type: a/b\r\nContent-Type: c/d\r\n\r\nx\r\n--b--",
		    "two Content-Type headers" },
		{ NULL, "--b\r\nContent-Disposition form-data; name=a\r\n\r\n"
		    "x\r\n--b--", "has no ':'" },
		{ NULL, "--b\r\nContent-Disposition: form-data; name=a\r\n"
		    "X-Folded: a\r\n b\r\n\r\nx\r\n--b--", "folded header line" },
		{ NULL, "--b\r\nContent-Disposition: form-data; name=a\n\r\n"
		    "x\r\n--b--", "bare LF" },
		{ NULL, "--b\r\nContent-Disposition: form-data; name=\"a\x01\"\r\n"
		    "\r\nx\r\n--b--", "control character" },
		{ NULL, "--b\r\nContent-Disposition: form-data; name=a\r\n--b--"
		    "\r\n", "boundary line among the headers" },
		{ NULL, "--b\r\nContent-Disposition: form-data; name=a",
		    "body ends inside the headers" },
		{ NULL, "--b\r\nContent-Disposition: form-data; name=a\r\n",
		    "body ends inside the headers" },
	};
	struct multipart_part *parts;
	struct cwld_err err;
	size_t i, n;
	const char *ct;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ct = cases[i].ct != NULL ? cases[i].ct :
		    "multipart/form-data; boundary=b";
		memset(&err, 0, sizeof err);
		parts = (struct multipart_part *)&err;
		n = 99;
		if (mp_parse(ct, cases[i].body, strlen(cases[i].body), &parts,
		    &n, &err) != -1)
			fail_msg("case %zu accepted, want '%s'", i, cases[i].why);
		assert_null(parts);
		assert_int_equal(n, 0);
		assert_int_equal(err.code, CWLD_EXIT_USAGE);
		if (strstr(err.msg, cases[i].why) == NULL)
			fail_msg("case %zu: message '%s' does not say '%s'", i,
			    err.msg, cases[i].why);
	}

	/* A NUL in a header line is refused, not a truncated name. */
	{
		static const char body[] = "--b\r\nContent-Disposition: "
		    "form-data; name=\"a\0b\"\r\n\r\nx\r\n--b--";

		memset(&err, 0, sizeof err);
		assert_int_equal(mp_parse("multipart/form-data; boundary=b",
		    body, sizeof body - 1, &parts, &n, &err), -1);
		assert_non_null(strstr(err.msg, "control character"));
	}
	/* err may be NULL. */
	assert_int_equal(multipart_parse("text/plain", "x", 1, &parts, &n,
	    NULL), -1);
}

/* A body of count parts named p0, p1, ...; new string, length in *len. */
static char *
mp_many_parts(size_t count, size_t *len)
{
	size_t cap = count * 64 + 16, o = 0, i;
	char *b = xmalloc(cap);

	for (i = 0; i < count; i++)
		o += (size_t)snprintf(b + o, cap - o, "--b\r\nContent-Disposition:"
		    " form-data; name=\"p%zu\"\r\n\r\n%zu\r\n", i, i);
	o += (size_t)snprintf(b + o, cap - o, "--b--\r\n");
	*len = o;
	return b;
}

static void
test_limits(void **state)
{
	struct multipart_part *parts = NULL;
	struct cwld_err err = { 0 };
	size_t n = 0, len, o;
	char *body, *line;

	(void)state;
	body = mp_many_parts(MULTIPART_MAX_PARTS, &len);
	assert_int_equal(mp_parse("multipart/form-data; boundary=b", body, len,
	    &parts, &n, &err), 0);
	assert_int_equal(n, MULTIPART_MAX_PARTS);
	assert_string_equal(parts[999].name, "p999");
	assert_string_equal(parts[999].data, "999");
	multipart_free(parts, n);
	free(body);

	body = mp_many_parts(MULTIPART_MAX_PARTS + 1, &len);
	assert_int_equal(mp_parse("multipart/form-data; boundary=b", body, len,
	    &parts, &n, &err), -1);
	assert_non_null(strstr(err.msg, "more than 1000 parts"));
	free(body);

	/* A header line of exactly the limit passes; one byte more fails. */
	body = xmalloc(2 * MULTIPART_MAX_HEADER_LINE);
	line = xmalloc(MULTIPART_MAX_HEADER_LINE + 2);
	memset(line, 'v', MULTIPART_MAX_HEADER_LINE + 1);
	memcpy(line, "X-Long: ", 8);
	o = (size_t)snprintf(body, 2 * MULTIPART_MAX_HEADER_LINE,
	    "--b\r\nContent-Disposition: form-data; name=a\r\n%.*s\r\n\r\n"
	    "x\r\n--b--", MULTIPART_MAX_HEADER_LINE, line);
	memset(&err, 0, sizeof err);
	assert_int_equal(mp_parse("multipart/form-data; boundary=b", body, o,
	    &parts, &n, &err), 0);
	assert_int_equal(n, 1);
	multipart_free(parts, n);
	/* Cut after that line's CR: the CRLF may just be cut off. */
	assert_int_equal(mp_parse("multipart/form-data; boundary=b", body,
	    o - 11, &parts, &n, &err), -1);
	assert_non_null(strstr(err.msg, "body ends inside the headers"));
	o = (size_t)snprintf(body, 2 * MULTIPART_MAX_HEADER_LINE,
	    "--b\r\nContent-Disposition: form-data; name=a\r\n%.*s\r\n\r\n"
	    "x\r\n--b--", MULTIPART_MAX_HEADER_LINE + 1, line);
	assert_int_equal(mp_parse("multipart/form-data; boundary=b", body, o,
	    &parts, &n, &err), -1);
	assert_non_null(strstr(err.msg, "part 1: header line longer than 8192"));
	/* Cut short at the end of an overlong line: still "too long", not
	 * a read past the end. */
	assert_int_equal(mp_parse("multipart/form-data; boundary=b", body,
	    o - 12, &parts, &n, &err), -1);
	assert_non_null(strstr(err.msg, "header line longer than"));
	assert_int_equal(mp_parse("multipart/form-data; boundary=b", body,
	    o - 11, &parts, &n, &err), -1); /* ends in the line's CR */
	assert_non_null(strstr(err.msg, "header line longer than"));
	free(line);
	free(body);

	/* Header lines per part. */
	body = xmalloc(4096);
	o = (size_t)snprintf(body, 4096,
	    "--b\r\nContent-Disposition: form-data; name=a\r\n");
	for (len = 1; len < MULTIPART_MAX_HEADERS; len++)
		o += (size_t)snprintf(body + o, 4096 - o, "X-H%zu: 1\r\n", len);
	o += (size_t)snprintf(body + o, 4096 - o, "\r\nx\r\n--b--");
	assert_int_equal(mp_parse("multipart/form-data; boundary=b", body, o,
	    &parts, &n, &err), 0);
	multipart_free(parts, n);
	o = (size_t)snprintf(body, 4096,
	    "--b\r\nContent-Disposition: form-data; name=a\r\n");
	for (len = 1; len <= MULTIPART_MAX_HEADERS; len++)
		o += (size_t)snprintf(body + o, 4096 - o, "X-H%zu: 1\r\n", len);
	o += (size_t)snprintf(body + o, 4096 - o, "\r\nx\r\n--b--");
	assert_int_equal(mp_parse("multipart/form-data; boundary=b", body, o,
	    &parts, &n, &err), -1);
	assert_non_null(strstr(err.msg, "more than 32 header lines"));
	free(body);
}

/* A form with no fields is an opening delimiter that closes at once. */
static void
test_no_parts(void **state)
{
	struct multipart_part *parts = (struct multipart_part *)&parts;
	struct cwld_err err = { 0 };
	size_t n = 99;

	(void)state;
	assert_int_equal(mp_parse("multipart/form-data; boundary=b",
	    "preamble\r\n--b--\r\n", 17, &parts, &n, &err), 0);
	assert_null(parts);
	assert_int_equal(n, 0);
	multipart_free(parts, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests_body),
		cmocka_unit_test(test_curl_body),
		cmocka_unit_test(test_preamble_epilogue),
		cmocka_unit_test(test_binary_content),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_no_parts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
