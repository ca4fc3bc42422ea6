/* SPDX-License-Identifier: ISC */
/*
 * hdr: header lines from flags, files and the environment. Every error
 * case also checks that the message never repeats the header's value.
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

static void
expect_refused(const char *line, const char *why)
{
	struct hdrlist *l = hdrlist_new();

	err[0] = '\0';
	cr_expect_eq(
	    hdrlist_add_line(l, line, err, sizeof(err)), -1, "%s", line);
	cr_expect(strstr(err, why) != NULL, "'%s' -> '%s'", line, err);
	cr_expect(strstr(err, SECRET) == NULL, "value leaked: %s", err);
	cr_expect_eq(hdrlist_count(l), 0);
	hdrlist_free(&l);
}

Test(hdr, valid_lines_are_trimmed)
{
	struct hdrlist *l = hdrlist_new();

	cr_assert_eq(hdrlist_add_line(
	                 l, "  X-Api-Key :  " SECRET "  ", err, sizeof(err)),
	    0);
	cr_assert_eq(
	    hdrlist_add_line(l, "Authorization: Bearer a b", err, sizeof(err)),
	    0);
	cr_assert_eq(hdrlist_count(l), 2);
	cr_expect_str_eq(hdrlist_line(l, 0), "X-Api-Key: " SECRET);
	cr_expect_str_eq(hdrlist_name(l, 0), "X-Api-Key");
	cr_expect_str_eq(hdrlist_line(l, 1), "Authorization: Bearer a b");
	cr_expect(hdrlist_has(l, "x-api-key"));
	cr_expect(hdrlist_has(l, "AUTHORIZATION"));
	cr_expect(!hdrlist_has(l, "x-api"));
	hdrlist_free(&l);
	cr_expect_null(l);
	hdrlist_free(&l);
	hdrlist_free(NULL);
}

Test(hdr, empty_value_is_allowed)
{
	struct hdrlist *l = hdrlist_new();

	cr_assert_eq(hdrlist_add_line(l, "X-Empty:", err, sizeof(err)), 0);
	cr_expect_str_eq(hdrlist_line(l, 0), "X-Empty: ");
	hdrlist_free(&l);
}

Test(hdr, malformed_and_reserved_are_refused)
{
	static const char *const reserved[] = { "Content-Type", "accept",
		"MCP-Protocol-Version", "Mcp-Session-Id", "Host",
		"Content-Length", "Transfer-Encoding", "Connection",
		"Last-Event-ID" };
	char line[128];

	expect_refused(SECRET, "Name: value");
	expect_refused(": " SECRET, "Name: value");
	expect_refused("Bad Name: " SECRET, "invalid character");
	expect_refused("Bad(Name): " SECRET, "invalid character");
	expect_refused("X-Nl: a\rb" SECRET, "CR, LF");
	for (size_t i = 0; i < sizeof(reserved) / sizeof(*reserved); i++) {
		snprintf(line, sizeof(line), "%s: %s", reserved[i], SECRET);
		expect_refused(line, "set by the bridge");
	}
}

Test(hdr, env_expansion)
{
	struct hdrlist *l = hdrlist_new();

	setenv("HDR_TEST_TOKEN", "tok123", 1);
	setenv("HDR_TEST_USER", "alice", 1);
	cr_assert_eq(
	    hdrlist_add_line(
	        l, "Authorization:Bearer ${HDR_TEST_TOKEN}", err, sizeof(err)),
	    0);
	cr_assert_eq(
	    hdrlist_add_line(l, "X-Who: ${HDR_TEST_USER}-${HDR_TEST_USER}$",
	        err, sizeof(err)),
	    0);
	cr_expect_str_eq(hdrlist_line(l, 0), "Authorization: Bearer tok123");
	cr_expect_str_eq(hdrlist_line(l, 1), "X-Who: alice-alice$");
	hdrlist_free(&l);
	unsetenv("HDR_TEST_MISSING");
	expect_refused(
	    "X-A: " SECRET "${HDR_TEST_MISSING}", "HDR_TEST_MISSING");
	expect_refused("X-A: " SECRET "${HDR_TEST_TOKEN", "unterminated");
	expect_refused("X-A: " SECRET "${}", "empty");
	setenv("HDR_TEST_NL", "a\nb", 1);
	expect_refused("X-A: ${HDR_TEST_NL}" SECRET, "CR, LF");
}

Test(hdr, too_many_headers)
{
	struct hdrlist *l = hdrlist_new();
	char line[64];

	for (int i = 0; i < BOUNDS_MAX_HEADERS; i++) {
		snprintf(line, sizeof(line), "X-H%d: v", i);
		cr_assert_eq(hdrlist_add_line(l, line, err, sizeof(err)), 0);
	}
	cr_expect_eq(
	    hdrlist_add_line(l, "X-One-More: " SECRET, err, sizeof(err)), -1);
	cr_expect(strstr(err, SECRET) == NULL);
	hdrlist_add_bearer(l, "t", 1); /* full: silently not added */
	cr_expect_eq(hdrlist_count(l), BOUNDS_MAX_HEADERS);
	hdrlist_free(&l);
}

Test(hdr, bearer_only_without_authorization)
{
	struct hdrlist *l = hdrlist_new();

	hdrlist_add_bearer(l, "abc", 3);
	cr_assert_eq(hdrlist_count(l), 1);
	cr_expect_str_eq(hdrlist_line(l, 0), "Authorization: Bearer abc");
	hdrlist_add_bearer(l, "other", 5);
	cr_expect_eq(hdrlist_count(l), 1);
	hdrlist_free(&l);
	l = hdrlist_new();
	cr_assert_eq(
	    hdrlist_add_line(l, "authorization: Basic x", err, sizeof(err)), 0);
	hdrlist_add_bearer(l, "abc", 3);
	cr_expect_eq(hdrlist_count(l), 1);
	cr_expect_str_eq(hdrlist_line(l, 0), "authorization: Basic x");
	hdrlist_free(&l);
}

static char *
write_file(const char *text)
{
	char *path = strdup("/tmp/hdr-test-XXXXXX");
	int fd = mkstemp(path);

	cr_assert_neq(fd, -1);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

Test(hdr, header_file)
{
	struct hdrlist *l = hdrlist_new();
	char *path =
	    write_file("# credentials\r\n\r\nX-Api-Key: " SECRET
	               "\r\n   \n  # indented comment\nX-Team: data\n");

	cr_assert_eq(
	    hdrlist_load_file(l, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(hdrlist_count(l), 2);
	cr_expect_str_eq(hdrlist_line(l, 0), "X-Api-Key: " SECRET);
	cr_expect_str_eq(hdrlist_line(l, 1), "X-Team: data");
	unlink(path);
	free(path);
	hdrlist_free(&l);
}

Test(hdr, header_file_errors_name_file_and_line)
{
	struct hdrlist *l = hdrlist_new();
	char *path = write_file("X-Ok: 1\n\nno colon " SECRET "\n");
	char want[128];

	cr_assert_eq(hdrlist_load_file(l, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: ", path);
	cr_expect(strncmp(err, want, strlen(want)) == 0, "%s", err);
	cr_expect(strstr(err, SECRET) == NULL, "%s", err);
	unlink(path);
	cr_expect_eq(hdrlist_load_file(l, path, err, sizeof(err)), -1);
	cr_expect(strstr(err, path) != NULL, "%s", err);
	free(path);
	hdrlist_free(&l);
}
