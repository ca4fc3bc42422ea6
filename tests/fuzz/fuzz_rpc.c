/* SPDX-License-Identifier: ISC */
/* libFuzzer harness: rpc_parse, then every accessor on what it read. */
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "rpc.h"

static struct rpc *r, *item, *back;

/* Accessors on a parsed `p`; `ok`: rpc_parse() returned 0. */
static void
poke(struct rpc *p, const char *js, size_t len, int ok)
{
	struct rpc_span id = rpc_id(p), sp;
	struct buf out;
	char m[64];
	int64_t v;

	(void)rpc_reason(p);
	(void)rpc_method(p, m, sizeof(m));
	(void)rpc_method_is(p, "tools/call");
	(void)rpc_is_error(p);
	sp = rpc_get(p, "params", "_meta", "progressToken", NULL);
	(void)rpc_span_int(js, sp, &v);
	(void)rpc_span_str(js, sp, m, sizeof(m));
	(void)rpc_get(p, "error", "code", NULL);
	(void)rpc_get(p, NULL);
	buf_init(&out, 1u << 24);
	if (id.type != RPC_T_NONE) {
		(void)rpc_span_int(js, id, &v);
		/* A new id keeps a valid message valid. */
		if (rpc_splice(js, len, id, "42", 2, &out) == 0 && ok &&
		    rpc_parse(back, buf_data(&out), buf_len(&out)) != 0)
			__builtin_trap();
		buf_reset(&out);
	}
	/* An error reply to it parses back as a response. */
	if (rpc_error_reply(&out, id.type != RPC_T_NONE ? js + id.off : NULL,
	        id.len, RPC_INVALID_REQUEST, "fuzz \"\\\n") == 0 &&
	    (rpc_parse(back, buf_data(&out), buf_len(&out)) != 0 ||
	        rpc_kind(back) != RPC_RESPONSE))
		__builtin_trap();
	buf_finish(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *js = (const char *)data;
	int rc;

	if (r == NULL) {
		r = rpc_new();
		item = rpc_new();
		back = rpc_new();
	}
	rc = rpc_parse(r, js, size);
	if (rc == 0 && rpc_kind(r) == RPC_BATCH) {
		for (size_t i = 0; i <= rpc_batch_len(r); i++) {
			struct rpc_span sp = rpc_batch_item(r, i);

			if (sp.type == RPC_T_NONE)
				continue; /* i == len */
			rc = rpc_parse(item, js + sp.off, sp.len);
			poke(item, js + sp.off, sp.len, rc == 0);
		}
	} else {
		poke(r, js, size, rc == 0);
	}
	return 0;
}
