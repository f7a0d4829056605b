/* Unit tests for curl_lazy.c: libcurl is not mapped until cwld calls it,
 * and once loaded, every kind of option argument (long, object pointer,
 * function pointer, curl_off_t) and getinfo reach libcurl intact: checked
 * with a real file:// transfer. Built a second time against a library name
 * that does not exist (test_curl_lazy_missing): every call then fails the
 * way its callers expect and the error says what could not be loaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cwld/curl_lazy.h"
#include "cwld/fs.h"
#include "testutil.h"

/* Whether a library whose path contains name is mapped in this process. */
static int
mapped(const char *name)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[1024];
	int found = 0;

	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL)
		if (strstr(line, name) != NULL)
			found = 1;
	fclose(f);
	return found;
}

#ifndef CWLD_TEST_CURL_MISSING
struct sink {
	char buf[64];
	size_t len;
};

static size_t
sink_write(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;

	if (len > sizeof s->buf - 1 - s->len)
		return 0;
	memcpy(s->buf + s->len, p, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return len;
}

static void
test_loaded_on_first_use(void **state)
{
	char dir[] = "/tmp/cwld-test-curl-XXXXXX";
	char *path, *url;
	struct sink s = { "", 0 };
	curl_off_t size = -1;
	char *scheme = NULL;
	CURL *c;

	(void)state;
	/* Before any call: neither loaded nor failed, and not mapped. */
	assert_int_equal(curl_lazy_loaded(), 0);
	assert_null(curl_lazy_error());
	assert_string_equal(curl_lazy_why(), "");
	assert_false(mapped("libcurl"));

	assert_non_null(mkdtemp(dir));
	tu_write(dir, "in.txt", "hello lazy curl\n");
	path = fs_join(dir, "in.txt");
	url = xasprintf("file://%s", path);

	assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	assert_int_equal(curl_lazy_loaded(), 1);
	assert_true(mapped("libcurl"));
	assert_non_null(c = curl_easy_init());
	/* an object pointer, a function pointer, a long */
	assert_int_equal(curl_easy_setopt(c, CURLOPT_URL, url), CURLE_OK);
	assert_int_equal(curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write),
	    CURLE_OK);
	assert_int_equal(curl_easy_setopt(c, CURLOPT_WRITEDATA, &s), CURLE_OK);
	assert_int_equal(curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L),
	    CURLE_OK);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	assert_string_equal(s.buf, "hello lazy curl\n");
	assert_int_equal(curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &size),
	    CURLE_OK);
	assert_int_equal(size, 16);
	assert_int_equal(curl_easy_getinfo(c, CURLINFO_SCHEME, &scheme),
	    CURLE_OK);
	assert_non_null(scheme);
	assert_int_equal(strcasecmp(scheme, "file"), 0);

	/* The curl_off_t arrives as such: resuming at byte 6 skips "hello ". */
	curl_easy_reset(c);
	s.len = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	assert_int_equal(curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE,
	    (curl_off_t)6), CURLE_OK);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	assert_string_equal(s.buf, "lazy curl\n");
	assert_non_null(strstr(curl_easy_strerror(CURLE_FILESIZE_EXCEEDED),
	    "size"));
	curl_easy_cleanup(c);
	curl_global_cleanup();

	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	free(url);
	free(path);
}

#else
/* Built as test_curl_lazy_missing, with a library name that does not
 * exist. */
static void
test_missing_library(void **state)
{
	char *esc;

	(void)state;
	assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT),
	    CURLE_FAILED_INIT);
	assert_int_equal(curl_lazy_loaded(), 0);
	assert_non_null(curl_lazy_error());
	assert_non_null(strstr(curl_lazy_error(),
	    "cannot load libcwld-no-such-curl.so.4: "));
	assert_string_equal(curl_lazy_why() + 2, curl_lazy_error());
	assert_null(curl_easy_init());
	assert_null(curl_multi_init());
	assert_null(curl_slist_append(NULL, "a: b"));
	assert_int_equal(curl_easy_setopt(NULL, CURLOPT_URL, "file:///"),
	    CURLE_FAILED_INIT);
	assert_int_equal(curl_multi_setopt(NULL, CURLMOPT_MAXCONNECTS, 1L),
	    CURLM_INTERNAL_ERROR);
	esc = curl_easy_escape(NULL, "a b", 3);
	assert_null(esc);
	assert_string_equal(curl_easy_strerror(CURLE_OK), curl_lazy_error());
	/* nothing to free, and no crash */
	curl_slist_free_all(NULL);
	curl_easy_cleanup(NULL);
	curl_global_cleanup();
	assert_false(mapped("libcurl"));
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
#ifdef CWLD_TEST_CURL_MISSING
		cmocka_unit_test(test_missing_library),
#else
		cmocka_unit_test(test_loaded_on_first_use),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
