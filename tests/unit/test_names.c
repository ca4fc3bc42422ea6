/* SPDX-License-Identifier: ISC */
/* names: server ids, collisions, exposed names within 64 characters. */
#include <criterion/criterion.h>

#include <string.h>

#include "names.h"

static char err[256];

Test(names, ids_from_registry_names)
{
	const char *n[] = { "com.example.mcp/presto",
		"com.example.mcp/knowledge", "io.github.user/weather.v2",
		"a.b/__x__" };
	char out[4][NAMES_ID_MAX + 1];

	cr_assert_eq(names_ids(n, NULL, 4, out, err, sizeof(err)), 0);
	cr_assert_str_eq(out[0], "presto");
	cr_assert_str_eq(out[1], "knowledge");
	cr_assert_str_eq(out[2], "weather-v2");
	cr_assert_str_eq(out[3], "_x", "no '__' and no trailing '_'");
	for (int i = 0; i < 4; i++)
		cr_assert(names_id_ok(out[i]), "%s", out[i]);
}

Test(names, collisions_are_stable_and_order_free)
{
	const char *a[] = { "com.a/presto", "com.b/presto", "com.c/other" };
	const char *b[] = { "com.c/other", "com.b/presto", "com.a/presto" };
	char x[3][NAMES_ID_MAX + 1], y[3][NAMES_ID_MAX + 1];

	cr_assert_eq(names_ids(a, NULL, 3, x, err, sizeof(err)), 0);
	cr_assert_eq(names_ids(b, NULL, 3, y, err, sizeof(err)), 0);
	cr_assert_str_neq(x[0], x[1]);
	cr_assert(strncmp(x[0], "presto-", 7) == 0, "%s", x[0]);
	cr_assert_str_eq(x[2], "other");
	cr_assert_str_eq(x[0], y[2], "same name, same id, whatever the order");
	cr_assert_str_eq(x[1], y[1]);
}

Test(names, explicit_ids_win_and_are_checked)
{
	const char *n[] = { "com.a/presto", "com.b/presto" };
	const char *ids[] = { "presto", NULL };
	const char *bad[] = { "pre__sto", NULL };
	const char *twice[] = { "p", "p" };
	char out[2][NAMES_ID_MAX + 1];

	cr_assert_eq(names_ids(n, ids, 2, out, err, sizeof(err)), 0);
	cr_assert_str_eq(out[0], "presto");
	cr_assert(strncmp(out[1], "presto-", 7) == 0, "%s", out[1]);
	cr_assert_eq(names_ids(n, bad, 2, out, err, sizeof(err)), -1);
	cr_assert(strstr(err, "pre__sto") != NULL, "%s", err);
	cr_assert_eq(names_ids(n, twice, 2, out, err, sizeof(err)), -1);
	cr_assert(strstr(err, "set twice") != NULL, "%s", err);
}

Test(names, exposed_names)
{
	char out[NAMES_MAX + 1], id[NAMES_ID_MAX + 1], again[NAMES_MAX + 1];
	const char *rest;
	char longname[200];

	cr_assert_eq(names_expose("presto", "run_query", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "presto__run_query");
	cr_assert_eq(names_split(out, id, &rest), 0);
	cr_assert_str_eq(id, "presto");
	cr_assert_str_eq(rest, "run_query");
	cr_assert_eq(names_expose("presto", "_x", out, sizeof(out)), 0);
	cr_assert_eq(names_split(out, id, &rest), 0);
	cr_assert_str_eq(rest, "_x", "a leading '_' in the tool name survives");

	memset(longname, 'q', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_assert_eq(names_expose("presto", longname, out, sizeof(out)), 0);
	cr_assert_eq(strlen(out), NAMES_MAX);
	cr_assert(strncmp(out, "presto__qqq", 11) == 0);
	cr_assert_eq(names_expose("presto", longname, again, sizeof(again)), 0);
	cr_assert_str_eq(out, again, "stable");
	longname[100] = 'x';
	cr_assert_eq(names_expose("presto", longname, again, sizeof(again)), 0);
	cr_assert_str_neq(
	    out, again, "a different long name, a different hash");
	cr_assert_eq(names_expose("bad id", "x", out, sizeof(out)), -1);
	cr_assert_eq(names_split("noseparator", id, &rest), -1);
}

/* Hostile servers (issue 9): names that must not reach the IDE. */
Test(names, tool_names_from_servers)
{
	char big[NAMES_TOOL_MAX + 2];

	cr_assert(names_tool_ok("run_query"));
	cr_assert(names_tool_ok("get.weather-v2"));
	cr_assert(names_tool_ok("caf\xc3\xa9"), "UTF-8 letters are fine");
	cr_assert_not(names_tool_ok(""));
	cr_assert_not(names_tool_ok("ctl\x01name"));
	cr_assert_not(names_tool_ok("new\nline"));
	cr_assert_not(names_tool_ok("del\x7fname"));
	cr_assert_not(names_tool_ok("c1\xc2\x85name"), "C1 control (NEL)");
	cr_assert_not(names_tool_ok("bad\xff"), "invalid UTF-8");
	cr_assert_not(names_tool_ok("\xed\xa0\x80"), "a surrogate");
	cr_assert_not(names_tool_ok("trunc\xc2"), "cut sequence");
	memset(big, 'L', NAMES_TOOL_MAX);
	big[NAMES_TOOL_MAX] = '\0';
	cr_assert(names_tool_ok(big), "NAMES_TOOL_MAX bytes");
	big[NAMES_TOOL_MAX] = 'L';
	big[NAMES_TOOL_MAX + 1] = '\0';
	cr_assert_not(names_tool_ok(big), "one byte over");
}
