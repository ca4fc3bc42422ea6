/* SPDX-License-Identifier: ISC */
/*
 * qr: a QR code of the sign-in address, drawn on a terminal.
 *
 * Two modules per character cell (Unicode half blocks), a 2-module
 * quiet zone, dark modules drawn as spaces on a frame of full blocks:
 * the code reads as dark-on-light in a dark terminal theme, and phone
 * cameras also read the inverted form a light theme shows.
 */
#ifndef QR_H
#define QR_H

#include <stdio.h>

/*
 * Prints `text` as a QR code (error correction L, the smallest version
 * that fits) to `f`. 0, or -1 when it does not fit in a QR code or the
 * bridge was built without libqrencode (nothing printed).
 */
int qr_print(FILE *f, const char *text);

/* Modules per side of the symbol for `text` (no quiet zone), or -1. */
int qr_width(const char *text);

#endif
