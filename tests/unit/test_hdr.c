/* SPDX-License-Identifier: ISC */
/*
 * hdr: header lines from flags, files and the environment. Every error
 * case also checks that the message never repeats the header's value,
 * not even in part.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "hdr.h"

#define SECRET "s3cr3t-VALUE"

static char err[512];

/* No 5-byte run of `value` appears in `msg`. */
static void
expect_no_leak(const char *msg, const char *value)
{
	size_t n = strlen(value);

	for (size_t i = 0; i + 5 <= n; i++) {
		char part[6];

		memcpy(part, value + i, 5);
		part[5] = '\0';
		cr_expect(
		    strstr(msg, part) == NULL, "'%s' leaks '%s'", msg, part);
	}
}

/* `line` is refused with `why` in the message and SECRET nowhere. */
static void
expect_refused(const char *line, const char *why)
{
	struct hdrlist *l = hdrlist_new();

	memset(err, 0, sizeof(err));
	cr_expect_eq(
	    hdrlist_add_line(l, line, err, sizeof(err)), -1, "'%s'", line);
	cr_expect(err[0] != '\0', "'%s': empty error", line);
	cr_expect(strstr(err, why) != NULL, "'%s' -> '%s'", line, err);
	expect_no_leak(err, SECRET);
	cr_expect_eq(hdrlist_count(l), 0);
	hdrlist_free(&l);
}

/* `line` is accepted and stored as `want` with the name `name`. */
static void
expect_line(const char *line, const char *name, const char *want)
{
	struct hdrlist *l = hdrlist_new();

	cr_assert_eq(hdrlist_add_line(l, line, err, sizeof(err)), 0, "'%s': %s",
	    line, err);
	cr_assert_eq(hdrlist_count(l), 1);
	cr_expect_str_eq(hdrlist_line(l, 0), want, "'%s'", line);
	cr_expect_str_eq(hdrlist_name(l, 0), name, "'%s'", line);
	hdrlist_free(&l);
}

Test(hdr, new_list_is_empty)
{
	struct hdrlist *l = hdrlist_new();

	cr_assert_not_null(l);
	cr_expect_eq(hdrlist_count(l), 0);
	cr_expect(!hdrlist_has(l, "authorization"));
	cr_expect(!hdrlist_has(l, ""));
	hdrlist_free(&l);
	cr_expect_null(l);
	hdrlist_free(&l);
	hdrlist_free(NULL);
}

struct okcase {
	const char *line, *name, *want;
};

static const struct okcase okcases[] = {
	{ "X-Api-Key: " SECRET, "X-Api-Key", "X-Api-Key: " SECRET },
	{ "  X-Api-Key :  " SECRET "  ", "X-Api-Key", "X-Api-Key: " SECRET },
	{ "\tX-Tab\t:\tv\t", "X-Tab", "X-Tab: v" },
	{ "X-Tight:v", "X-Tight", "X-Tight: v" },
	{ "X-Inner: a  b\tc", "X-Inner", "X-Inner: a  b\tc" },
	{ "X-Colons: https://a:b/c", "X-Colons", "X-Colons: https://a:b/c" },
	{ "X-Empty:", "X-Empty", "X-Empty: " },
	{ "X-Blank:    ", "X-Blank", "X-Blank: " },
	{ "Authorization: Bearer a b", "Authorization",
	    "Authorization: Bearer a b" },
	{ "x-lower: V", "x-lower", "x-lower: V" },
	{ "!#$%&'*+-.^_`|~09azAZ: t", "!#$%&'*+-.^_`|~09azAZ",
	    "!#$%&'*+-.^_`|~09azAZ: t" },
	{ "X-Dollar: $5 $ {x} $}", "X-Dollar", "X-Dollar: $5 $ {x} $}" },
	{ "X-Utf8: caf\xc3\xa9", "X-Utf8", "X-Utf8: caf\xc3\xa9" },
	/* Near the reserved names, but not them. */
	{ "X-Content-Type: a", "X-Content-Type", "X-Content-Type: a" },
	{ "Content-Types: a", "Content-Types", "Content-Types: a" },
	{ "Accept-Language: en", "Accept-Language", "Accept-Language: en" },
	{ "Hosts: a", "Hosts", "Hosts: a" },
	{ "Mcp-Session: a", "Mcp-Session", "Mcp-Session: a" },
};

Test(hdr, valid_lines_are_trimmed)
{
	for (size_t i = 0; i < sizeof(okcases) / sizeof(*okcases); i++)
		expect_line(okcases[i].line, okcases[i].name, okcases[i].want);
}

Test(hdr, line_name_and_has)
{
	struct hdrlist *l = hdrlist_new();

	cr_assert_eq(hdrlist_add_line(
	                 l, "  X-Api-Key :  " SECRET "  ", err, sizeof(err)),
	    0);
	cr_assert_eq(
	    hdrlist_add_line(l, "Authorization: Bearer a b", err, sizeof(err)),
	    0);
	cr_assert_eq(hdrlist_add_line(l, "x-team: data", err, sizeof(err)), 0);
	cr_assert_eq(hdrlist_count(l), 3);
	cr_expect_str_eq(hdrlist_line(l, 0), "X-Api-Key: " SECRET);
	cr_expect_str_eq(hdrlist_name(l, 0), "X-Api-Key");
	cr_expect_str_eq(hdrlist_line(l, 1), "Authorization: Bearer a b");
	cr_expect_str_eq(hdrlist_name(l, 1), "Authorization");
	cr_expect_str_eq(hdrlist_line(l, 2), "x-team: data");
	cr_expect_str_eq(hdrlist_name(l, 2), "x-team");
	cr_expect(hdrlist_has(l, "x-api-key"));
	cr_expect(hdrlist_has(l, "X-API-KEY"));
	cr_expect(hdrlist_has(l, "X-Api-Key"));
	cr_expect(hdrlist_has(l, "AUTHORIZATION"));
	cr_expect(hdrlist_has(l, "X-Team"));
	cr_expect(!hdrlist_has(l, "x-api"));
	cr_expect(!hdrlist_has(l, "x-api-keys"));
	cr_expect(!hdrlist_has(l, "X-Api-Key:"));
	cr_expect(!hdrlist_has(l, ""));
	/* The name is a separate copy, without the value. */
	cr_expect(strstr(hdrlist_name(l, 0), SECRET) == NULL);
	hdrlist_free(&l);
}

Test(hdr, duplicates_are_kept)
{
	struct hdrlist *l = hdrlist_new();

	cr_assert_eq(hdrlist_add_line(l, "X-A: 1", err, sizeof(err)), 0);
	cr_assert_eq(hdrlist_add_line(l, "x-a: 2", err, sizeof(err)), 0);
	cr_expect_eq(hdrlist_count(l), 2);
	cr_expect_str_eq(hdrlist_line(l, 1), "x-a: 2");
	hdrlist_free(&l);
}

Test(hdr, malformed_lines_are_refused)
{
	expect_refused(SECRET, "Name: value");
	expect_refused("", "Name: value");
	expect_refused(": " SECRET, "Name: value");
	expect_refused("   : " SECRET, "Name: value");
	expect_refused("\t: " SECRET, "Name: value");
	expect_refused(":", "Name: value");
	expect_refused("::" SECRET, "Name: value");
	expect_refused("X-Api-Key " SECRET, "Name: value");
	expect_refused("X-Api-Key=" SECRET, "Name: value");
}

Test(hdr, invalid_name_characters_are_refused)
{
	static const char *const bad[] = { "Bad Name", "Bad(Name)", "Bad\"",
		"Bad/Name", "Bad@Name", "Bad[0]", "Bad{x}", "Bad,Name",
		"Bad;Name", "Bad=Name", "Bad<Name>", "Bad?", "Bad\\Name",
		"Bad\x01", "Bad\x7f", "Bad\x1b[0m", "B\303\244d", "Bad\x80",
		"Bad\xff", "Bad\vName", "${X}", "Bad\rName", "Bad\nName" };
	char line[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(line, sizeof(line), "%s: %s", bad[i], SECRET);
		expect_refused(line, "invalid character");
	}
}

Test(hdr, name_length_limit)
{
	char line[256];

	/* 128 bytes of name are fine, 129 are not. */
	memset(line, 'n', 128);
	memcpy(line + 128, ": v", 4);
	cr_assert_eq(strlen(line), 131);
	{
		struct hdrlist *l = hdrlist_new();

		cr_expect_eq(
		    hdrlist_add_line(l, line, err, sizeof(err)), 0, "%s", err);
		hdrlist_free(&l);
	}
	memset(line, 'n', 129);
	memcpy(line + 129, ": " SECRET, sizeof(": " SECRET));
	expect_refused(line, "Name: value");
}

Test(hdr, reserved_headers_are_refused)
{
	static const char *const reserved[] = { "Content-Type", "accept",
		"Accept", "ACCEPT", "MCP-Protocol-Version",
		"mcp-protocol-version", "Mcp-Session-Id", "MCP-SESSION-ID",
		"Host", "host", "Content-Length", "Transfer-Encoding",
		"Connection", "Last-Event-ID", "last-event-id",
		"content-type" };
	char line[128], want[128];

	for (size_t i = 0; i < sizeof(reserved) / sizeof(*reserved); i++) {
		snprintf(line, sizeof(line), "%s: %s", reserved[i], SECRET);
		expect_refused(line, "set by the bridge");
		/* The name is in the message, so the user knows which. */
		snprintf(want, sizeof(want), "%s", reserved[i]);
		expect_refused(line, want);
		snprintf(line, sizeof(line), "  %s\t:%s", reserved[i], SECRET);
		expect_refused(line, "set by the bridge");
		snprintf(line, sizeof(line), "%s:", reserved[i]);
		expect_refused(line, "set by the bridge");
	}
}

Test(hdr, cr_lf_in_values_are_refused)
{
	expect_refused("X-Nl: a\rb" SECRET, "CR, LF");
	expect_refused("X-Nl: " SECRET "\n", "CR, LF");
	expect_refused("X-Nl: " SECRET "\r", "CR, LF");
	expect_refused("X-Nl: " SECRET "\r\nX-Evil: 1", "CR, LF");
	expect_refused("X-Nl: \n" SECRET, "CR, LF");
	expect_refused("X-Nl:\r\n", "CR, LF");
}

Test(hdr, env_expansion)
{
	struct hdrlist *l = hdrlist_new();

	setenv("HDR_TEST_TOKEN", "tok123", 1);
	setenv("HDR_TEST_USER", "alice", 1);
	cr_assert_eq(
	    hdrlist_add_line(
	        l, "Authorization:Bearer ${HDR_TEST_TOKEN}", err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(
	    hdrlist_add_line(l, "X-Who: ${HDR_TEST_USER}-${HDR_TEST_USER}$",
	        err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(
	    hdrlist_add_line(l, "X-Both:${HDR_TEST_USER}${HDR_TEST_TOKEN}", err,
	        sizeof(err)),
	    0, "%s", err);
	cr_expect_str_eq(hdrlist_line(l, 0), "Authorization: Bearer tok123");
	cr_expect_str_eq(hdrlist_line(l, 1), "X-Who: alice-alice$");
	cr_expect_str_eq(hdrlist_line(l, 2), "X-Both: alicetok123");
	hdrlist_free(&l);
}

struct expcase {
	const char *line, *want;
};

static const struct expcase expcases[] = {
	{ "X-A: ${HDR_V}", "X-A: v" },
	{ "X-A:${HDR_V}", "X-A: v" },
	{ "X-A: <${HDR_V}>", "X-A: <v>" },
	{ "X-A: $${HDR_V}", "X-A: $v" },
	{ "X-A: ${HDR_V}}", "X-A: v}" },
	{ "X-A: $HDR_V", "X-A: $HDR_V" }, /* braces are required */
	{ "X-A: $ {HDR_V}", "X-A: $ {HDR_V}" },
	{ "X-A: {HDR_V}", "X-A: {HDR_V}" },
	{ "X-A: ${HDR_SPACES}", "X-A: in side" }, /* trimmed after */
	{ "X-A: [${HDR_SPACES}]", "X-A: [  in side  ]" },
	{ "X-A: ${HDR_EMPTY}", "X-A: " },
	{ "X-A: a${HDR_EMPTY}b", "X-A: ab" },
	{ "X-A: ${HDR_NESTED}", "X-A: ${HDR_V}" }, /* not expanded again */
	{ "X-A: ${HDR_V}${HDR_V}${HDR_V}${HDR_V}", "X-A: vvvv" },
};

Test(hdr, env_expansion_table)
{
	setenv("HDR_V", "v", 1);
	setenv("HDR_SPACES", "  in side  ", 1);
	setenv("HDR_EMPTY", "", 1);
	setenv("HDR_NESTED", "${HDR_V}", 1);
	for (size_t i = 0; i < sizeof(expcases) / sizeof(*expcases); i++)
		expect_line(expcases[i].line, "X-A", expcases[i].want);
}

Test(hdr, env_errors_name_the_variable_not_the_value)
{
	setenv("HDR_TEST_TOKEN", "tok123", 1);
	unsetenv("HDR_TEST_MISSING");
	expect_refused(
	    "X-A: " SECRET "${HDR_TEST_MISSING}", "HDR_TEST_MISSING");
	expect_refused("X-A: ${HDR_TEST_MISSING}" SECRET, "HDR_TEST_MISSING");
	expect_refused("X-A: ${HDR_TEST_TOKEN}" SECRET "${HDR_TEST_MISSING}",
	    "HDR_TEST_MISSING");
	expect_refused("X-A: ${HDR_TEST_MISSING}", "not set");
	/* The message must not carry the value of the variables either. */
	memset(err, 0, sizeof(err));
	{
		struct hdrlist *l = hdrlist_new();

		cr_expect_eq(hdrlist_add_line(l,
		                 "X-A: ${HDR_TEST_TOKEN}${HDR_TEST_MISSING}",
		                 err, sizeof(err)),
		    -1);
		cr_expect(strstr(err, "tok123") == NULL, "%s", err);
		hdrlist_free(&l);
	}
	expect_refused("X-A: " SECRET "${HDR_TEST_TOKEN", "unterminated");
	expect_refused("X-A: " SECRET "${", "unterminated");
	expect_refused("X-A: ${" SECRET, "unterminated");
	expect_refused("X-A: " SECRET "${}", "empty");
	expect_refused("X-A: ${}" SECRET, "empty");
}

Test(hdr, overlong_variable_name_is_refused)
{
	char line[256];

	memcpy(line, "X-A: " SECRET "${", 19);
	memset(line + 19, 'V', 200);
	memcpy(line + 219, "}", 2);
	expect_refused(line, "${");
}

Test(hdr, cr_lf_through_variables_are_refused)
{
	setenv("HDR_NL", "a\nb", 1);
	setenv("HDR_CR", "a\rb", 1);
	setenv("HDR_CRLF", "x\r\nX-Evil: 1", 1);
	setenv("HDR_TRAILING_NL", "tok\n", 1);
	expect_refused("X-A: ${HDR_NL}" SECRET, "CR, LF");
	expect_refused("X-A: " SECRET "${HDR_CR}", "CR, LF");
	expect_refused("X-A: " SECRET "${HDR_CRLF}", "CR, LF");
	expect_refused("Authorization: Bearer ${HDR_TRAILING_NL}", "CR, LF");
}

Test(hdr, value_length_limit)
{
	size_t n = BOUNDS_MAX_HEADER_LINE + 64;
	char *line = malloc(n + 1), *big = malloc(n + 1);
	struct hdrlist *l = hdrlist_new();

	cr_assert_not_null(line);
	cr_assert_not_null(big);
	/* "X:" then exactly BOUNDS_MAX_HEADER_LINE bytes of value: fits. */
	memcpy(line, "X:", 2);
	memset(line + 2, 'a', BOUNDS_MAX_HEADER_LINE);
	line[2 + BOUNDS_MAX_HEADER_LINE] = '\0';
	cr_expect_eq(hdrlist_add_line(l, line, err, sizeof(err)), 0, "%s", err);
	/* One more byte does not; the message does not repeat it. */
	memcpy(line, "X:" SECRET, 2 + strlen(SECRET));
	memset(line + 2 + strlen(SECRET), 'a',
	    BOUNDS_MAX_HEADER_LINE + 1 - strlen(SECRET));
	line[3 + BOUNDS_MAX_HEADER_LINE] = '\0';
	expect_refused(line, "longer than");
	/* The same through a variable. */
	memset(big, 'b', BOUNDS_MAX_HEADER_LINE);
	big[BOUNDS_MAX_HEADER_LINE] = '\0';
	setenv("HDR_BIG", big, 1);
	expect_refused("X-B: " SECRET "${HDR_BIG}", "longer than");
	free(line);
	free(big);
	hdrlist_free(&l);
}

Test(hdr, too_many_headers)
{
	struct hdrlist *l = hdrlist_new();
	char line[64];

	for (int i = 0; i < BOUNDS_MAX_HEADERS; i++) {
		snprintf(line, sizeof(line), "X-H%d: v%d", i, i);
		cr_assert_eq(hdrlist_add_line(l, line, err, sizeof(err)), 0);
	}
	cr_expect_eq(hdrlist_count(l), BOUNDS_MAX_HEADERS);
	memset(err, 0, sizeof(err));
	cr_expect_eq(
	    hdrlist_add_line(l, "X-One-More: " SECRET, err, sizeof(err)), -1);
	cr_expect(strstr(err, "more than") != NULL, "%s", err);
	expect_no_leak(err, SECRET);
	hdrlist_add_bearer(l, SECRET, strlen(SECRET)); /* full: not added */
	cr_expect_eq(hdrlist_count(l), BOUNDS_MAX_HEADERS);
	cr_expect(!hdrlist_has(l, "authorization"));
	snprintf(line, sizeof(line), "X-H%d: v%d", BOUNDS_MAX_HEADERS - 1,
	    BOUNDS_MAX_HEADERS - 1);
	cr_expect_str_eq(hdrlist_line(l, BOUNDS_MAX_HEADERS - 1), line);
	hdrlist_free(&l);
}

Test(hdr, failures_leave_the_list_unchanged)
{
	struct hdrlist *l = hdrlist_new();

	cr_assert_eq(hdrlist_add_line(l, "X-A: 1", err, sizeof(err)), 0);
	cr_expect_eq(hdrlist_add_line(l, "Host: h", err, sizeof(err)), -1);
	cr_expect_eq(hdrlist_add_line(l, "X-B: a\nb", err, sizeof(err)), -1);
	cr_expect_eq(hdrlist_add_line(l, "nocolon", err, sizeof(err)), -1);
	cr_expect_eq(hdrlist_count(l), 1);
	cr_expect(!hdrlist_has(l, "host"));
	cr_expect(!hdrlist_has(l, "x-b"));
	hdrlist_free(&l);
}

Test(hdr, small_error_buffer)
{
	struct hdrlist *l = hdrlist_new();
	char small[6];

	memset(small, 'X', sizeof(small));
	cr_expect_eq(
	    hdrlist_add_line(l, "Host: " SECRET, small, sizeof(small)), -1);
	cr_expect_eq(strlen(small), sizeof(small) - 1);
	hdrlist_free(&l);
}

Test(hdr, bearer_only_without_authorization)
{
	struct hdrlist *l = hdrlist_new();

	hdrlist_add_bearer(l, "abc", 3);
	cr_assert_eq(hdrlist_count(l), 1);
	cr_expect_str_eq(hdrlist_line(l, 0), "Authorization: Bearer abc");
	cr_expect_str_eq(hdrlist_name(l, 0), "Authorization");
	hdrlist_add_bearer(l, "other", 5);
	cr_expect_eq(hdrlist_count(l), 1);
	cr_expect_str_eq(hdrlist_line(l, 0), "Authorization: Bearer abc");
	hdrlist_free(&l);

	/* Any spelling of an existing Authorization wins. */
	l = hdrlist_new();
	cr_assert_eq(
	    hdrlist_add_line(l, "authorization: Basic x", err, sizeof(err)), 0);
	hdrlist_add_bearer(l, "abc", 3);
	cr_expect_eq(hdrlist_count(l), 1);
	cr_expect_str_eq(hdrlist_line(l, 0), "authorization: Basic x");
	hdrlist_free(&l);
	l = hdrlist_new();
	cr_assert_eq(
	    hdrlist_add_line(l, "AUTHORIZATION:x", err, sizeof(err)), 0);
	hdrlist_add_bearer(l, "abc", 3);
	cr_expect_eq(hdrlist_count(l), 1);
	hdrlist_free(&l);
}

Test(hdr, bearer_after_other_headers_and_by_length)
{
	struct hdrlist *l = hdrlist_new();

	cr_assert_eq(
	    hdrlist_add_line(l, "X-Authorization: no", err, sizeof(err)), 0);
	cr_assert_eq(hdrlist_add_line(l, "X-Team: t", err, sizeof(err)), 0);
	/* Only `len` bytes of the token are used. */
	hdrlist_add_bearer(l, SECRET "-and-more", strlen(SECRET));
	cr_assert_eq(hdrlist_count(l), 3);
	cr_expect_str_eq(hdrlist_line(l, 2), "Authorization: Bearer " SECRET);
	cr_expect_str_eq(hdrlist_name(l, 2), "Authorization");
	cr_expect(hdrlist_has(l, "authorization"));
	hdrlist_free(&l);
}

static char *
write_file(const char *text, size_t n)
{
	char *path = strdup("/tmp/hdr-test-XXXXXX");
	int fd;

	cr_assert_not_null(path);
	fd = mkstemp(path);
	cr_assert_neq(fd, -1);
	cr_assert_eq(write(fd, text, n), (ssize_t)n);
	close(fd);
	return path;
}

#define WRITE_FILE(s) write_file((s), sizeof(s) - 1)

Test(hdr, header_file)
{
	struct hdrlist *l = hdrlist_new();
	char *path = WRITE_FILE("# credentials " SECRET "\r\n"
	                        "\r\n"
	                        "X-Api-Key: " SECRET "\r\n"
	                        "   \n"
	                        "\t\n"
	                        "  # indented comment\n"
	                        "#X-Commented: out\n"
	                        "  X-Team :  data  \n"
	                        "X-Hash: a#b\n"
	                        "X-Last: no newline");

	cr_assert_eq(
	    hdrlist_load_file(l, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(hdrlist_count(l), 4);
	cr_expect_str_eq(hdrlist_line(l, 0), "X-Api-Key: " SECRET);
	cr_expect_str_eq(hdrlist_line(l, 1), "X-Team: data");
	cr_expect_str_eq(hdrlist_line(l, 2), "X-Hash: a#b");
	cr_expect_str_eq(hdrlist_line(l, 3), "X-Last: no newline");
	cr_expect(!hdrlist_has(l, "X-Commented"));
	unlink(path);
	free(path);
	hdrlist_free(&l);
}

Test(hdr, header_file_empty_and_comments_only)
{
	struct hdrlist *l = hdrlist_new();
	char *a = WRITE_FILE("");
	char *b = WRITE_FILE("# nothing\n\n\r\n#\n");

	cr_expect_eq(hdrlist_load_file(l, a, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(hdrlist_load_file(l, b, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(hdrlist_count(l), 0);
	unlink(a);
	unlink(b);
	free(a);
	free(b);
	hdrlist_free(&l);
}

Test(hdr, header_file_expands_variables)
{
	struct hdrlist *l = hdrlist_new();
	char *path = WRITE_FILE("Authorization: Bearer ${HDR_FILE_TOK}\r\n");

	setenv("HDR_FILE_TOK", "from-env", 1);
	cr_assert_eq(
	    hdrlist_load_file(l, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(hdrlist_count(l), 1);
	cr_expect_str_eq(hdrlist_line(l, 0), "Authorization: Bearer from-env");
	unlink(path);
	free(path);
	hdrlist_free(&l);
}

/* Loads `text`; expects "PATH:LINE: " + `why` and SECRET nowhere. */
static void
expect_file_error(const char *text, size_t n, int line, const char *why)
{
	struct hdrlist *l = hdrlist_new();
	char *path = write_file(text, n);
	char want[128];

	memset(err, 0, sizeof(err));
	cr_expect_eq(hdrlist_load_file(l, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:%d: ", path, line);
	cr_expect(strncmp(err, want, strlen(want)) == 0, "'%s', want '%s'", err,
	    want);
	cr_expect(strstr(err, why) != NULL, "'%s' lacks '%s'", err, why);
	expect_no_leak(err, SECRET);
	unlink(path);
	free(path);
	hdrlist_free(&l);
}

#define FILE_ERROR(s, line, why)                                               \
	expect_file_error((s), sizeof(s) - 1, line, why)

Test(hdr, header_file_errors_name_file_and_line)
{
	unsetenv("HDR_FILE_MISSING");
	FILE_ERROR("X-Ok: 1\n\nno colon " SECRET "\n", 3, "Name: value");
	FILE_ERROR("no colon " SECRET, 1, "Name: value");
	FILE_ERROR("# c\r\n\r\nHost: " SECRET "\r\n", 3, "set by the bridge");
	FILE_ERROR("X-A: 1\nBad Name: " SECRET "\n", 2, "invalid character");
	FILE_ERROR("\n\n\n\nX-A: " SECRET "${HDR_FILE_MISSING}\n", 5,
	    "HDR_FILE_MISSING");
	FILE_ERROR("X-A: " SECRET "${HDR_FILE_MISSING\n", 1, "unterminated");
	FILE_ERROR("X-A: a\rb" SECRET "\n", 1, "CR, LF");
}

Test(hdr, header_file_line_too_long)
{
	static const char head[] = "X-Ok: 1\nX-Big: " SECRET;
	size_t n = BOUNDS_MAX_HEADER_LINE * 2;
	char *text = malloc(n);

	cr_assert_not_null(text);
	memcpy(text, head, sizeof(head) - 1);
	memset(text + sizeof(head) - 1, 'z', n - sizeof(head));
	text[n - 1] = '\n';
	expect_file_error(text, n, 2, "too long");
	free(text);
}

Test(hdr, header_file_too_many_headers)
{
	char text[BOUNDS_MAX_HEADERS * 16 + 64];
	size_t n = 0;

	for (int i = 0; i < BOUNDS_MAX_HEADERS; i++)
		n += (size_t)snprintf(
		    text + n, sizeof(text) - n, "X-H%d: v\n", i);
	n += (size_t)snprintf(
	    text + n, sizeof(text) - n, "X-More: %s\n", SECRET);
	expect_file_error(text, n, BOUNDS_MAX_HEADERS + 1, "more than");
}

Test(hdr, header_file_with_nul_byte_is_refused)
{
	static const char text[] = "X-A: " SECRET "\0tail\nX-B: 1\n";
	struct hdrlist *l = hdrlist_new();
	char *path = write_file(text, sizeof(text) - 1);

	memset(err, 0, sizeof(err));
	cr_expect_eq(hdrlist_load_file(l, path, err, sizeof(err)), -1);
	expect_no_leak(err, SECRET);
	unlink(path);
	free(path);
	hdrlist_free(&l);
}

Test(hdr, missing_file_reports_the_path)
{
	struct hdrlist *l = hdrlist_new();
	char *path = WRITE_FILE("X-A: 1\n");

	unlink(path);
	memset(err, 0, sizeof(err));
	cr_expect_eq(hdrlist_load_file(l, path, err, sizeof(err)), -1);
	cr_expect(strstr(err, path) != NULL, "%s", err);
	cr_expect_eq(hdrlist_count(l), 0);
	free(path);
	cr_expect_eq(
	    hdrlist_load_file(l, "/nonexistent/dir/hdrs", err, sizeof(err)),
	    -1);
	cr_expect(strstr(err, "/nonexistent/dir/hdrs") != NULL, "%s", err);
	hdrlist_free(&l);
}
