/* Allocation that aborts on failure, with overflow-checked sizes (tmux). */
#ifndef CWLD_XMALLOC_H
#define CWLD_XMALLOC_H
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Allocates and formats; never returns NULL. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
