/* libcurl is loaded the first time cwld calls one of its functions
 * (src/net/curl_lazy.c): these say whether that happened and why it failed. */
#ifndef CWLD_CURL_LAZY_H
#define CWLD_CURL_LAZY_H

/* 1 once libcurl is loaded, else 0 (not needed yet, or failed). */
int curl_lazy_loaded(void);

/* Why loading libcurl failed ("cannot load libcurl.so.4: ..."), or NULL
 * when it did not fail. */
const char *curl_lazy_error(void);

/* The same as ": <why>" to append to a message, or "" when it did not
 * fail. */
const char *curl_lazy_why(void);

#endif
