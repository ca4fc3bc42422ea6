/* SPDX-License-Identifier: ISC */
/*
 * jwipe: makes jansson wipe every block it frees.
 *
 * Token responses and the stored token set are parsed and built with
 * jansson, so token strings pass through its allocations. jwipe_install()
 * gives jansson an allocator that wipes each block (its whole usable
 * size) before freeing it. Blocks stay plain malloc() blocks, so strings
 * jansson returns (json_dumps) may still be released with free().
 */
#ifndef JWIPE_H
#define JWIPE_H

/* Installs the wiping allocator; call once, before any jansson use. */
void jwipe_install(void);

#endif
