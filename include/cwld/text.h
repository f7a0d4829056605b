/* Small text helpers shared by modules that build messages in fixed
 * buffers. */
#ifndef CWLD_TEXT_H
#define CWLD_TEXT_H
#include <stddef.h>

/* Appends printf output to buf (of size len > 0, kept NUL-terminated) at
 * *off, advancing *off; what does not fit is cut. */
void text_appendf(char *buf, size_t len, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
