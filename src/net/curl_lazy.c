/* libcurl loaded on first use: this file defines the curl functions cwld
 * calls and forwards each to libcurl, which it dlopen()s the first time one
 * is called. Loading libcurl and the 28 libraries it pulls in (TLS, Kerberos,
 * LDAP, ...) costs about 3 ms per process; validate, dag and host-only runs
 * never talk HTTP and no longer pay it. Loading is not guarded by a lock:
 * cwld calls libcurl from its one thread (the loop's). */
#define CURL_DISABLE_TYPECHECK /* curl.h would make curl_easy_setopt a macro */
#include <curl/curl.h>

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cwld/curl_lazy.h"

#ifndef CWLD_LIBCURL_SONAME
#define CWLD_LIBCURL_SONAME "libcurl.so.4"
#endif

/* Every function cwld calls but the variadic ones: X(return type, name,
 * (parameters), (arguments), what it returns when libcurl cannot be
 * loaded: the error its callers already handle); XV for those that return
 * nothing. Only an object libcurl made can reach the ones that free or use
 * one, so without libcurl those have nothing to do. */
#define CURL_LAZY_FUNCS(X, XV)                                              \
	X(CURLcode, curl_global_init, (long flags), (flags),                \
	    CURLE_FAILED_INIT)                                              \
	XV(curl_global_cleanup, (void), ())                                 \
	X(CURL *, curl_easy_init, (void), (), NULL)                         \
	X(CURLcode, curl_easy_perform, (CURL *c), (c), CURLE_FAILED_INIT)   \
	XV(curl_easy_cleanup, (CURL *c), (c))                               \
	XV(curl_easy_reset, (CURL *c), (c))                                 \
	X(CURLcode, curl_easy_recv, (CURL *c, void *buf, size_t len,        \
	    size_t *n), (c, buf, len, n), CURLE_FAILED_INIT)                \
	X(CURLcode, curl_easy_send, (CURL *c, const void *buf, size_t len,  \
	    size_t *n), (c, buf, len, n), CURLE_FAILED_INIT)                \
	X(const char *, curl_easy_strerror, (CURLcode code), (code),        \
	    lazy_error + 2)                                                 \
	X(char *, curl_easy_escape, (CURL *c, const char *s, int len),      \
	    (c, s, len), NULL)                                              \
	XV(curl_free, (void *p), (p))                                       \
	X(struct curl_slist *, curl_slist_append, (struct curl_slist *l,    \
	    const char *s), (l, s), NULL)                                   \
	XV(curl_slist_free_all, (struct curl_slist *l), (l))                \
	X(CURLM *, curl_multi_init, (void), (), NULL)                       \
	X(CURLMcode, curl_multi_add_handle, (CURLM *m, CURL *c), (m, c),    \
	    CURLM_INTERNAL_ERROR)                                           \
	X(CURLMcode, curl_multi_remove_handle, (CURLM *m, CURL *c), (m, c), \
	    CURLM_INTERNAL_ERROR)                                           \
	X(CURLMcode, curl_multi_cleanup, (CURLM *m), (m),                   \
	    CURLM_INTERNAL_ERROR)                                           \
	X(CURLMsg *, curl_multi_info_read, (CURLM *m, int *left), (m, left), \
	    NULL)                                                           \
	X(const char *, curl_multi_strerror, (CURLMcode code), (code),      \
	    lazy_error + 2)                                                 \
	X(CURLMcode, curl_multi_socket_action, (CURLM *m, curl_socket_t s,  \
	    int ev, int *running), (m, s, ev, running), CURLM_INTERNAL_ERROR) \
	X(CURLMcode, curl_multi_assign, (CURLM *m, curl_socket_t s,         \
	    void *p), (m, s, p), CURLM_INTERNAL_ERROR)                      \
	X(CURLU *, curl_url, (void), (), NULL)                              \
	XV(curl_url_cleanup, (CURLU *u), (u))                               \
	X(CURLUcode, curl_url_set, (CURLU *u, CURLUPart what,               \
	    const char *part, unsigned int flags), (u, what, part, flags),  \
	    CURLUE_OUT_OF_MEMORY)                                           \
	X(CURLUcode, curl_url_get, (CURLU *u, CURLUPart what, char **part,  \
	    unsigned int flags), (u, what, part, flags), CURLUE_OUT_OF_MEMORY) \
	X(const char *, curl_url_strerror, (CURLUcode code), (code),        \
	    lazy_error + 2)

static int lazy_state; /* 0 not tried, 1 loaded, -1 failed */
/* ": why", so that curl_lazy_why() can hand it out as it is */
static char lazy_error[512] = ": libcurl is not loaded";

#define CURL_LAZY_PTR(ret, name, params, args, failv)                       \
	static ret(*p_##name) params;
#define CURL_LAZY_PTRV(name, params, args) static void(*p_##name) params;
CURL_LAZY_FUNCS(CURL_LAZY_PTR, CURL_LAZY_PTRV)
static CURLcode (*p_curl_easy_setopt)(CURL *, CURLoption, ...);
static CURLcode (*p_curl_easy_getinfo)(CURL *, CURLINFO, ...);
static CURLMcode (*p_curl_multi_setopt)(CURLM *, CURLMoption, ...);

/* dlsym into a function pointer: POSIX guarantees the conversion works;
 * copying the bytes keeps ISO C's void *-to-function cast out of it. */
static int
lazy_sym(void *lib, const char *name, void *slot, size_t size)
{
	void *sym = dlsym(lib, name);

	if (sym == NULL) {
		snprintf(lazy_error, sizeof lazy_error, ": %s: no symbol %s",
		    CWLD_LIBCURL_SONAME, name);
		return -1;
	}
	memcpy(slot, &sym, size);
	return 0;
}

static int
lazy_load(void)
{
	void *lib;

	if (lazy_state != 0)
		return lazy_state;
	lazy_state = -1;
	if ((lib = dlopen(CWLD_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		const char *why = dlerror();

		snprintf(lazy_error, sizeof lazy_error, ": cannot load %s: %s "
		    "(Debian: apt-get install libcurl4)", CWLD_LIBCURL_SONAME,
		    why != NULL ? why : "unknown error");
		return -1;
	}
#define CURL_LAZY_SYM(ret, name, params, args, failv)                       \
	if (lazy_sym(lib, #name, &p_##name, sizeof p_##name) != 0)          \
		goto fail;
#define CURL_LAZY_SYMV(name, params, args)                                  \
	CURL_LAZY_SYM(void, name, params, args, 0)
	CURL_LAZY_FUNCS(CURL_LAZY_SYM, CURL_LAZY_SYMV)
	if (lazy_sym(lib, "curl_easy_setopt", &p_curl_easy_setopt,
	    sizeof p_curl_easy_setopt) != 0 ||
	    lazy_sym(lib, "curl_easy_getinfo", &p_curl_easy_getinfo,
	    sizeof p_curl_easy_getinfo) != 0 ||
	    lazy_sym(lib, "curl_multi_setopt", &p_curl_multi_setopt,
	    sizeof p_curl_multi_setopt) != 0)
		goto fail;
	lazy_state = 1;
	return 1;
fail:
	dlclose(lib);
	return -1;
}

int
curl_lazy_loaded(void)
{
	return lazy_state == 1;
}

const char *
curl_lazy_error(void)
{
	return lazy_state == -1 ? lazy_error + 2 : NULL;
}

const char *
curl_lazy_why(void)
{
	return lazy_state == -1 ? lazy_error : "";
}

#define CURL_LAZY_DEF(ret, name, params, args, failv)                       \
	ret name params                                                     \
	{                                                                   \
		if (lazy_load() != 1)                                       \
			return failv;                                       \
		return p_##name args;                                       \
	}
#define CURL_LAZY_DEFV(name, params, args)                                  \
	void name params                                                    \
	{                                                                   \
		if (lazy_load() == 1)                                       \
			p_##name args;                                      \
	}
CURL_LAZY_FUNCS(CURL_LAZY_DEF, CURL_LAZY_DEFV)

/* The variadic three take one argument whose type the option's number
 * range gives (curl.h's CURLOPTTYPE_* and multi.h's CURLMOPTTYPE_*, which
 * share the bases): a long, an object or function pointer, or a
 * curl_off_t. */
#define CURL_LAZY_FORWARD(fn, h, opt, ap)                                   \
	((opt) < CURLOPTTYPE_OBJECTPOINT ? fn(h, opt, va_arg(ap, long)) :   \
	 (opt) < CURLOPTTYPE_FUNCTIONPOINT ? fn(h, opt, va_arg(ap, void *)) : \
	 (opt) < CURLOPTTYPE_OFF_T ? fn(h, opt, va_arg(ap, void (*)(void))) : \
	 (opt) < CURLOPTTYPE_BLOB ? fn(h, opt, va_arg(ap, curl_off_t)) :    \
	 fn(h, opt, va_arg(ap, void *)))

CURLcode
curl_easy_setopt(CURL *c, CURLoption opt, ...)
{
	va_list ap;
	CURLcode rc;

	if (lazy_load() != 1)
		return CURLE_FAILED_INIT;
	va_start(ap, opt);
	rc = CURL_LAZY_FORWARD(p_curl_easy_setopt, c, opt, ap);
	va_end(ap);
	return rc;
}

CURLMcode
curl_multi_setopt(CURLM *m, CURLMoption opt, ...)
{
	va_list ap;
	CURLMcode rc;

	if (lazy_load() != 1)
		return CURLM_INTERNAL_ERROR;
	va_start(ap, opt);
	rc = CURL_LAZY_FORWARD(p_curl_multi_setopt, m, opt, ap);
	va_end(ap);
	return rc;
}

/* Every CURLINFO_* takes a pointer to where the answer goes. */
CURLcode
curl_easy_getinfo(CURL *c, CURLINFO info, ...)
{
	va_list ap;
	CURLcode rc;

	if (lazy_load() != 1)
		return CURLE_FAILED_INIT;
	va_start(ap, info);
	rc = p_curl_easy_getinfo(c, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}
