/* SPDX-License-Identifier: ISC */
/*
 * buf: bounded growable byte buffer.
 *
 * Every buffer has a hard cap set at init; an append that would pass it
 * fails and leaves the buffer unchanged. The data is always followed by a
 * NUL byte (not counted in len) so it can be handed to string functions,
 * yet it may hold NUL bytes itself. The members are private: use the API.
 */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>

struct buf {
	char *data; /* private: NULL until the first append */
	size_t len; /* private: bytes used */
	size_t cap; /* private: bytes allocated */
	size_t max; /* private: hard cap on len */
	int wipe;   /* private: wipe memory before freeing it */
};

/* Prepares an empty buffer that will never hold more than `max` bytes. */
void buf_init(struct buf *b, size_t max);

/*
 * Same, for secrets (form bodies with tokens): every block the buffer
 * lets go of, on growth and in buf_finish(), is wiped first.
 */
void buf_init_secret(struct buf *b, size_t max);
/* Frees the memory; the buffer is empty and reusable afterwards. */
void buf_finish(struct buf *b);

/* Appends; returns 0, or -1 if the cap would be exceeded (unchanged). */
int buf_append(struct buf *b, const void *p, size_t n)
    __attribute__((warn_unused_result));

/* Appends a C string. */
int buf_puts(struct buf *b, const char *s) __attribute__((warn_unused_result));

/* Appends formatted text. */
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), warn_unused_result));

/* Drops the first `n` bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);

/* Empties the buffer but keeps its memory. */
void buf_reset(struct buf *b);

/* Borrowed pointer to the data (never NULL: "" when empty). */
const char *buf_data(const struct buf *b);

size_t buf_len(const struct buf *b);

/* Hands the data to the caller (new; free()), buffer becomes empty. */
char *buf_take(struct buf *b, size_t *len);

#endif
