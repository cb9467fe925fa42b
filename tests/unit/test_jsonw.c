/* Unit test for src/jsonw.c: the output sink and the streaming JSON writer.
 * One line per check; exit 0 pass, 1 fail, 77 skip (last line = reason). */
#include "jsonw.h"
#include "log.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;
static char top_dir[256];

/* ---- reporting ---------------------------------------------------------- */

static void B2I_PRINTF(3, 4) check(bool ok, const char *name, const char *fmt, ...)
{
	if (ok) {
		printf("ok   %s\n", name);
		return;
	}
	failures++;
	printf("FAIL %s", name);
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		printf(": ");
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
}

static void skip(const char *name, const char *why)
{
	printf("skip %s: %s\n", name, why);
}

/* ---- files -------------------------------------------------------------- */

static char *path_in(const char *sub)
{
	static char bufs[4][1024];
	static int next;
	char *p = bufs[next++ % 4];
	snprintf(p, sizeof(bufs[0]), "%s/%s", top_dir, sub);
	return p;
}

/* All of f (NULL: not opened), NUL-terminated, *len bytes; NULL if close_fn
 * fails (pclose: the command did not succeed). */
static char *slurp_from(FILE *f, int (*close_fn)(FILE *), size_t *len)
{
	char *data = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			data = realloc(data, cap + 1);
		}
		size_t r = fread(data + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (close_fn(f) != 0) {
		free(data);
		return NULL;
	}
	data[n] = 0;
	*len = n;
	return data;
}

static char *slurp(const char *path, size_t *len) { return slurp_from(fopen(path, "rb"), fclose, len); }
static char *slurp_cmd(const char *cmd, size_t *len) { return slurp_from(popen(cmd, "r"), pclose, len); }

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static bool file_is(const char *path, const char *text)
{
	size_t n = 0;
	char *d = slurp(path, &n);
	bool same = d && n == strlen(text) && memcmp(d, text, n) == 0;
	free(d);
	return same;
}

/* Entries in dir other than . and .. (temporary files would show up here). */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static char *make_dir(const char *sub)
{
	char *p = path_in(sub);
	if (mkdir(p, 0755) < 0 && errno != EEXIST) {
		perror(p);
		exit(1);
	}
	return p;
}

static bool have_cmd(const char *name)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* ---- documents ---------------------------------------------------------- */

typedef void doc_fn(struct jsonw *w, void *arg);

/* Writes a document to path; returns sink_close()'s result (or -1). */
static int write_doc(const char *path, bool pretty, doc_fn *fn, void *arg)
{
	struct sink *s = sink_open(path);
	if (!s)
		return -1;
	struct jsonw *w = jsonw_new(s, pretty);
	fn(w, arg);
	int wr = jsonw_free(w);
	int cr = sink_close(s);
	return wr < 0 ? -1 : cr;
}

/* The document as text (written through a .json file). */
static char *render(bool pretty, doc_fn *fn, void *arg, size_t *len)
{
	const char *p = path_in("render.json");
	if (write_doc(p, pretty, fn, arg) < 0) {
		printf("render: %s\n", err_get());
		return NULL;
	}
	return slurp(p, len);
}

static bool render_is(bool pretty, doc_fn *fn, void *arg, const char *want, const char *name)
{
	size_t n = 0;
	char *got = render(pretty, fn, arg, &n);
	bool ok = got && n == strlen(want) && memcmp(got, want, n) == 0;
	check(ok, name, "got\n%s\nwant\n%s", got ? got : "(nothing)", want);
	free(got);
	return ok;
}

static void member_format(struct jsonw *w)
{
	jsonw_name(w, "format");
	jsonw_string(w, "6.2.0");
}

static void member_producer(struct jsonw *w)
{
	jsonw_name(w, "producer");
	jsonw_start_object(w);
	jsonw_name(w, "name");
	jsonw_string(w, "btf2isf");
	jsonw_end_object(w);
}

/* Members of the object open in w, rendered by a members writer of the
 * object's depth and spliced in; fn NULL: an empty run. */
static void members_run(struct jsonw *w, unsigned depth, void (*fn)(struct jsonw *))
{
	struct buf b = { 0 };
	struct jsonw *p = jsonw_new_members(&b, jsonw_pretty(w), depth);
	if (fn)
		fn(p);
	jsonw_free(p);
	jsonw_raw_members(w, b.p, b.len);
	buf_free(&b);
}

/* as_runs: its members as runs, an empty one between them. */
static void small_metadata(struct jsonw *w, bool as_runs)
{
	jsonw_start_object(w);
	if (as_runs) {
		members_run(w, 1, member_format);
		members_run(w, 1, NULL);
		members_run(w, 1, member_producer);
	} else {
		member_format(w);
		member_producer(w);
	}
	jsonw_end_object(w);
}

static void small_list_object(struct jsonw *w)
{
	jsonw_start_object(w);
	jsonw_name(w, "k");
	jsonw_uint(w, 18446744071578845184u);
	jsonw_end_object(w);
}

/* A value written directly, or (as_part) rendered by a part writer of the
 * given depth and spliced in. */
static void small_value(struct jsonw *w, bool as_part, unsigned depth, void (*fn)(struct jsonw *))
{
	if (!as_part) {
		fn(w);
		return;
	}
	struct buf b = { 0 };
	struct jsonw *p = jsonw_new_part(&b, jsonw_pretty(w), depth);
	fn(p);
	jsonw_free(p);
	jsonw_raw_value(w, b.p, b.len);
	buf_free(&b);
}

/* arg non-NULL: the members of the metadata and fields objects (depth 1)
 * are rendered as runs, and the last list element (depth 2) as a part,
 * which must change nothing. */
static void small_doc(struct jsonw *w, void *arg)
{
	bool parts = arg != NULL;

	jsonw_start_object(w);
	jsonw_name(w, "metadata");
	small_metadata(w, parts);
	jsonw_name(w, "fields");
	jsonw_start_object(w);
	if (parts)
		members_run(w, 1, NULL);
	jsonw_end_object(w);
	jsonw_name(w, "list");
	jsonw_start_array(w);
	jsonw_uint(w, 0);
	jsonw_int(w, -1);
	jsonw_bool(w, true);
	jsonw_bool(w, false);
	jsonw_start_array(w);
	jsonw_end_array(w);
	small_value(w, parts, 2, small_list_object);
	jsonw_end_array(w);
	jsonw_name(w, "empty");
	jsonw_start_array(w);
	jsonw_end_array(w);
	jsonw_name(w, "address");
	jsonw_uint(w, 18446744071578845184u);
	jsonw_end_object(w);
}

static const char small_compact[] =
	"{\"metadata\":{\"format\":\"6.2.0\",\"producer\":{\"name\":\"btf2isf\"}},"
	"\"fields\":{},\"list\":[0,-1,true,false,[],{\"k\":18446744071578845184}],"
	"\"empty\":[],\"address\":18446744071578845184}";

/* Go's json.MarshalIndent(doc, "", "  "): no trailing newline. */
static const char small_pretty[] =
	"{\n"
	"  \"metadata\": {\n"
	"    \"format\": \"6.2.0\",\n"
	"    \"producer\": {\n"
	"      \"name\": \"btf2isf\"\n"
	"    }\n"
	"  },\n"
	"  \"fields\": {},\n"
	"  \"list\": [\n"
	"    0,\n"
	"    -1,\n"
	"    true,\n"
	"    false,\n"
	"    [],\n"
	"    {\n"
	"      \"k\": 18446744071578845184\n"
	"    }\n"
	"  ],\n"
	"  \"empty\": [],\n"
	"  \"address\": 18446744071578845184\n"
	"}";

static void test_golden(void)
{
	render_is(false, small_doc, NULL, small_compact, "compact output byte-exact");
	render_is(true, small_doc, NULL, small_pretty, "pretty output byte-exact (MarshalIndent)");
	static bool parts = true;
	render_is(false, small_doc, &parts, small_compact, "compact: parts and member runs spliced = one writer");
	render_is(true, small_doc, &parts, small_pretty,
		  "pretty: parts and member runs spliced at their depth = one writer");
}

/* ---- numbers ------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static void one_uint(struct jsonw *w, void *arg) { jsonw_uint(w, *(uint64_t *)arg); }
static void one_int(struct jsonw *w, void *arg) { jsonw_int(w, *(int64_t *)arg); }

/* Two values from one template cut around its number, between plain ones. */
static void templated_values(struct jsonw *w, void *arg)
{
	static const char before[] = "{\"type\":{\"kind\":\"base\"},\"address\":", after[] = "}";
	(void)arg;
	jsonw_start_array(w);
	jsonw_uint(w, 1);
	jsonw_raw_value_around_uint(w, before, strlen(before), 18446744071578845184u, after, 1);
	jsonw_raw_value_around_uint(w, before, strlen(before), 0, after, 1);
	jsonw_bool(w, true);
	jsonw_end_array(w);
}

/* Interesting values: every power of ten and its neighbours, extremes,
 * random ones (including the top half where kernel addresses live). */
#define NUM_VALUES 20000
struct number_set {
	uint64_t u[NUM_VALUES];
	int64_t i[NUM_VALUES];
	size_t n;
};

static void fill_numbers(struct number_set *ns)
{
	uint64_t st = 42, p = 1;
	size_t n = 0;

	for (int k = 0; k < 20; k++, p *= 10) {
		ns->u[n++] = p - 1;
		ns->u[n++] = p;
		ns->u[n++] = p + 1;
	}
	ns->u[n++] = UINT64_MAX;
	ns->u[n++] = UINT64_MAX - 1;
	ns->u[n++] = (uint64_t)INT64_MAX + 1;
	while (n < NUM_VALUES) {
		uint64_t r = splitmix64(&st);
		ns->u[n++] = r >> (r & 63);	/* all magnitudes */
	}
	for (size_t k = 0; k < n; k++)
		ns->i[k] = (int64_t)ns->u[k];
	ns->i[0] = INT64_MIN;
	ns->i[1] = INT64_MAX;
	ns->i[2] = INT64_MIN + 1;
	ns->i[3] = -1;
	ns->n = n;
}

static void numbers_doc(struct jsonw *w, void *arg)
{
	struct number_set *ns = arg;
	jsonw_start_array(w);
	for (size_t k = 0; k < ns->n; k++) {
		jsonw_uint(w, ns->u[k]);
		jsonw_int(w, ns->i[k]);
	}
	jsonw_end_array(w);
}

static void test_numbers(void)
{
	uint64_t umax = UINT64_MAX, u0 = 0;
	int64_t imin = INT64_MIN, imax = INT64_MAX;

	render_is(false, one_uint, &umax, "18446744073709551615", "u64 max");
	render_is(false, one_uint, &u0, "0", "u64 zero");
	render_is(false, one_int, &imin, "-9223372036854775808", "s64 min");
	render_is(false, one_int, &imax, "9223372036854775807", "s64 max");
	render_is(false, templated_values, NULL,
		  "[1,{\"type\":{\"kind\":\"base\"},\"address\":18446744071578845184},"
		  "{\"type\":{\"kind\":\"base\"},\"address\":0},true]",
		  "values from a template around a number, with commas between");

	struct number_set *ns = malloc(sizeof(*ns));
	fill_numbers(ns);
	size_t cap = ns->n * 2 * 22 + 3, len = 0, n = 0;
	char *want = malloc(cap);
	want[len++] = '[';
	for (size_t k = 0; k < ns->n; k++)
		len += (size_t)snprintf(want + len, cap - len, "%s%" PRIu64 ",%" PRId64,
					k ? "," : "", ns->u[k], ns->i[k]);
	want[len++] = ']';
	want[len] = 0;
	char *got = render(false, numbers_doc, ns, &n);
	check(got && n == len && memcmp(got, want, len) == 0,
	      "u64/s64 formatting matches printf for 40000 values", NULL);
	free(got);
	free(want);
	free(ns);
}

/* ---- strings ------------------------------------------------------------ */

struct str {
	const char *s;
	size_t n;
};

static void strings_doc(struct jsonw *w, void *arg)
{
	const struct str *v = arg;
	jsonw_start_array(w);
	for (; v->s; v++)
		jsonw_string_len(w, v->s, v->n);
	jsonw_end_array(w);
}

#define STR(lit) { lit, sizeof(lit) - 1 }

static void escape_case(const char *name, struct str in, const char *want_elem)
{
	struct str arr[2] = { in, { NULL, 0 } };
	char want[1024];
	snprintf(want, sizeof(want), "[%s]", want_elem);
	render_is(false, strings_doc, arr, want, name);
}

static void keys_doc(struct jsonw *w, void *arg)
{
	(void)arg;
	jsonw_start_object(w);
	jsonw_name(w, "k\"e\\y\n\x01\xff");
	jsonw_string(w, "");
	jsonw_end_object(w);
}

static void test_escaping(void)
{
	static const char controls[32] = {
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
	};
	escape_case("all control chars incl. NUL", (struct str){ controls, 32 },
		    "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007"
		    "\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
		    "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
		    "\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\"");
	escape_case("quote, backslash; slash and DEL unescaped",
		    (struct str)STR("a\"b\\c/d\x7f"), "\"a\\\"b\\\\c/d\x7f\"");
	escape_case("embedded NUL via jsonw_string_len", (struct str)STR("a\0b"),
		    "\"a\\u0000b\"");
	escape_case("empty string", (struct str){ "", 0 }, "\"\"");
	escape_case("valid UTF-8 passes through",
		    (struct str)STR("\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf"),
		    "\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf\"");
	escape_case("lone continuation byte", (struct str)STR("a\x80z"), "\"a\\ufffdz\"");
	escape_case("0xff and 0xfe", (struct str)STR("\xff\xfe"), "\"\\ufffd\\ufffd\"");
	escape_case("overlong encoding", (struct str)STR("\xc0\xaf\xe0\x80\xaf"),
		    "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"");
	escape_case("UTF-16 surrogate", (struct str)STR("\xed\xa0\x80"),
		    "\"\\ufffd\\ufffd\\ufffd\"");
	escape_case("above U+10FFFF", (struct str)STR("\xf4\x90\x80\x80"),
		    "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	escape_case("sequence cut by ASCII", (struct str)STR("\xe2\x82" "A"),
		    "\"\\ufffd\\ufffdA\"");
	escape_case("sequence truncated at end of string", (struct str)STR("x\xf0\x9f\x98"),
		    "\"x\\ufffd\\ufffd\\ufffd\"");
	escape_case("truncated by length, not NUL", (struct str){ "\xc3\xa9", 1 },
		    "\"\\ufffd\"");
	render_is(false, keys_doc, NULL, "{\"k\\\"e\\\\y\\n\\u0001\\ufffd\":\"\"}",
		  "keys are escaped too");
}

/* A string much longer than the writer's buffer, escapes everywhere. */
static void long_string_doc(struct jsonw *w, void *arg)
{
	struct str *s = arg;
	jsonw_start_array(w);
	jsonw_string_len(w, s->s, s->n);
	jsonw_string(w, "after");
	jsonw_end_array(w);
}

static struct json_object *parse_strict(const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *o = json_tokener_parse_ex(tok, text, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		printf("json-c: %s at offset %zu\n",
		       json_tokener_error_desc(json_tokener_get_error(tok)),
		       json_tokener_get_parse_end(tok));
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static void test_long_strings(void)
{
	size_t n = 300000, len = 0;
	char *s = malloc(n);
	uint64_t st = 7;
	for (size_t k = 0; k < n; k++) {
		uint64_t r = splitmix64(&st) % 100;
		s[k] = r < 5 ? (char)(r + 1) : r < 8 ? '"' : r < 10 ? '\\' : (char)('a' + r % 26);
	}
	struct str arg = { s, n };
	char *text = render(false, long_string_doc, &arg, &len);
	struct json_object *o = text ? parse_strict(text, len) : NULL;
	struct json_object *e0 = o ? json_object_array_get_idx(o, 0) : NULL;
	struct json_object *e1 = o ? json_object_array_get_idx(o, 1) : NULL;
	check(e0 && json_object_get_string_len(e0) == (int)n &&
		      memcmp(json_object_get_string(e0), s, n) == 0 &&
		      e1 && strcmp(json_object_get_string(e1), "after") == 0,
	      "300 KB string with escapes round-trips through json-c", NULL);
	json_object_put(o);
	free(text);

	/* Plain runs longer than the buffer take the direct-write path. */
	memset(s, 'x', n);
	text = render(true, long_string_doc, &arg, &len);
	bool ok = text && len == n + 19 && memcmp(text, "[\n  \"", 5) == 0 &&
		  memcmp(text + 5 + n, "\",\n  \"after\"\n]", 14) == 0;
	check(ok, "300 KB plain string written unsplit", "len %zu", len);
	free(text);
	free(s);
}

/* ---- compression -------------------------------------------------------- */

/* ISF-like: many small objects with short keys and big addresses. */
static void isf_like_doc(struct jsonw *w, void *arg)
{
	size_t count = *(size_t *)arg;
	uint64_t st = 1;
	char name[32];

	jsonw_start_object(w);
	jsonw_name(w, "symbols");
	jsonw_start_object(w);
	for (size_t k = 0; k < count; k++) {
		snprintf(name, sizeof(name), "sym_%zu", k);
		jsonw_name(w, name);
		jsonw_start_object(w);
		jsonw_name(w, "type");
		jsonw_start_object(w);
		jsonw_name(w, "kind");
		jsonw_string(w, k % 3 ? "base" : "struct");
		jsonw_name(w, "name");
		jsonw_string(w, k % 2 ? "unsigned long" : "task_struct");
		jsonw_end_object(w);
		jsonw_name(w, "address");
		jsonw_uint(w, 0xffffffff81000000u + (splitmix64(&st) & 0xffffff));
		jsonw_end_object(w);
	}
	jsonw_end_object(w);
	jsonw_end_object(w);
}

static void test_compressed(const char *suffix, const char *tool, const uint8_t *magic,
			    size_t magic_len)
{
	char name[128], file[64], cmd[4400];
	size_t count = 40000, plain_len = 0, out_len = 0, raw_len = 0;

	snprintf(file, sizeof(file), "c/out%s", suffix);
	make_dir("c");
	const char *plain = path_in("c/out.json"), *packed = path_in(file);
	snprintf(name, sizeof(name), "%s output decompresses to the .json bytes", suffix);
	if (!have_cmd(tool)) {
		skip(name, "no decompressor in PATH");
		return;
	}
	int r1 = write_doc(plain, true, isf_like_doc, &count);
	int r2 = write_doc(packed, true, isf_like_doc, &count);
	if (r1 < 0 || r2 < 0) {
		check(false, name, "write failed: %s", err_get());
		return;
	}
	char *want = slurp(plain, &plain_len);
	snprintf(cmd, sizeof(cmd), "%s -dc '%s'", tool, packed);
	char *got = slurp_cmd(cmd, &out_len);
	char *raw = slurp(packed, &raw_len);
	check(want && got && plain_len == out_len && memcmp(want, got, out_len) == 0, name,
	      "%zu vs %zu bytes", plain_len, out_len);
	snprintf(name, sizeof(name), "%s output has the right header and is smaller", suffix);
	check(raw && raw_len > magic_len && memcmp(raw, magic, magic_len) == 0 &&
		      raw_len < plain_len / 4,
	      name, "%zu bytes from %zu", raw_len, plain_len);
	free(want);
	free(got);
	free(raw);
}

static void test_compression(void)
{
	/* xz stream header: magic, then stream flags 00 04 = CRC64 check. */
	static const uint8_t xz_magic[] = { 0xfd, '7', 'z', 'X', 'Z', 0, 0, 4 };
	/* gzip: magic 1f 8b, method 8 (deflate). */
	static const uint8_t gz_magic[] = { 0x1f, 0x8b, 8 };

	test_compressed(".json.xz", "xz", xz_magic, sizeof(xz_magic));
	test_compressed(".json.gz", "gzip", gz_magic, sizeof(gz_magic));
}

/* ---- names and atomic replacement --------------------------------------- */

static void test_unsupported_names(void)
{
	static const char *const bad[] = { "profile.txt", "profile.json.bz2", "profile.JSON",
					   "profile.json.xz.tmp", "profile", "dir/",
					   "profile.json.zst" };
	char want[256];
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		char name[128];
		err_clear();
		struct sink *s = sink_open(path_in(bad[k]));
		snprintf(want, sizeof(want),
			 "%s: unsupported output name; use .json, .json.xz or .json.gz",
			 path_in(bad[k]));
		snprintf(name, sizeof(name), "unsupported name rejected: %s", bad[k]);
		check(!s && strcmp(err_get(), want) == 0, name, "%s", err_get());
		sink_abort(s);
	}
}

static void hello_doc(struct jsonw *w, void *arg)
{
	(void)arg;
	jsonw_start_array(w);
	jsonw_string(w, "hello");
	jsonw_end_array(w);
}

static void test_atomic_replace(void)
{
	char *dir = make_dir("atomic");
	char target[4200];
	snprintf(target, sizeof(target), "%s/profile.json", dir);

	put_file(target, "OLD");
	struct sink *s = sink_open(target);
	struct jsonw *w = jsonw_new(s, false);
	hello_doc(w, NULL);
	jsonw_free(w);
	check(file_is(target, "OLD") && count_entries(dir) == 2,
	      "target untouched while writing; temp file beside it", "%d entries",
	      count_entries(dir));
	sink_abort(s);
	check(file_is(target, "OLD") && count_entries(dir) == 1,
	      "sink_abort keeps old target and removes temp", "%d entries", count_entries(dir));

	mode_t old_mask = umask(022);
	int r = write_doc(target, false, hello_doc, NULL);
	struct stat st;
	stat(target, &st);
	check(r == 0 && file_is(target, "[\"hello\"]") && count_entries(dir) == 1 &&
		      (st.st_mode & 07777) == 0644,
	      "sink_close replaces target, mode 0644 under umask 022", "r=%d mode %o", r,
	      (unsigned)(st.st_mode & 07777));
	umask(077);
	unlink(target);
	r = write_doc(target, false, hello_doc, NULL);
	stat(target, &st);
	check(r == 0 && (st.st_mode & 07777) == 0600, "new file mode 0600 under umask 077",
	      "mode %o", (unsigned)(st.st_mode & 07777));
	umask(old_mask);

	char rel[] = "relative-test.json";
	char cwd[4096];
	if (getcwd(cwd, sizeof(cwd)) && chdir(dir) == 0) {
		r = write_doc(rel, false, hello_doc, NULL);
		check(r == 0 && file_is(rel, "[\"hello\"]") && count_entries(".") == 2,
		      "relative name without a directory", "%s", err_get());
		unlink(rel);
		if (chdir(cwd) != 0)
			exit(1);
	}

	err_clear();
	char want[2200];
	snprintf(want, sizeof(want),
		 "%s/no/such/dir/profile.json: cannot create temporary file in %s/no/such/dir: "
		 "No such file or directory", top_dir, top_dir);
	s = sink_open(path_in("no/such/dir/profile.json"));
	check(!s && strcmp(err_get(), want) == 0, "nonexistent directory: clean error", "%s",
	      err_get());
	sink_abort(s);

	char isdir[4200];
	snprintf(isdir, sizeof(isdir), "%s/sub.json", dir);
	mkdir(isdir, 0755);
	s = sink_open(isdir);
	check(!s && strstr(err_get(), "sub.json: is a directory"),
	      "target that is a directory: error before any work", "%s", err_get());
	rmdir(isdir);

	/* rename() failing at the very end: a non-empty directory appears. */
	s = sink_open(isdir);
	if (s) {
		char inner[4300];
		w = jsonw_new(s, false);
		hello_doc(w, NULL);
		jsonw_free(w);
		mkdir(isdir, 0755);
		snprintf(inner, sizeof(inner), "%s/x", isdir);
		put_file(inner, "x");
		err_clear();
		r = sink_close(s);
		check(r == -1 && strstr(err_get(), "sub.json: cannot rename") &&
			      count_entries(dir) == 2,
		      "rename failure: error, temp removed", "%s; %d entries", err_get(),
		      count_entries(dir));
		unlink(inner);
		rmdir(isdir);
	} else {
		check(false, "rename failure: error, temp removed", "open: %s", err_get());
	}

	if (geteuid() != 0) {
		char *ro = make_dir("readonly");
		char p[4200];
		chmod(ro, 0555);
		snprintf(p, sizeof(p), "%s/profile.json", ro);
		s = sink_open(p);
		check(!s && strstr(err_get(), "Permission denied"),
		      "read-only directory: clean error", "%s", err_get());
		sink_abort(s);
		chmod(ro, 0755);
	} else {
		skip("read-only directory: clean error", "root ignores modes (see tmpfs test)");
	}
}

/* Random u64 values: poorly compressible, so failures happen in compressors too. */
static void bulk_doc(struct jsonw *w, void *arg)
{
	size_t count = *(size_t *)arg;
	uint64_t st = 99;
	jsonw_start_array(w);
	for (size_t k = 0; k < count; k++)
		jsonw_uint(w, splitmix64(&st));
	jsonw_end_array(w);
}

/* Writes ~1 MB where writes must fail; checks the error is clean and sticky
 * and the old target survives.  `why` is the strerror text expected.  The xz
 * encoder emits whole blocks, so there the failure may only show at close. */
static void expect_write_failure(const char *dir, const char *suffix, const char *why)
{
	char target[4200], name[200];
	size_t count = 50000;

	snprintf(target, sizeof(target), "%s/profile%s", dir, suffix);
	snprintf(name, sizeof(name), "%s: %s is an error, old target kept", suffix, why);
	put_file(target, "OLD");
	int before = count_entries(dir);
	err_clear();
	struct sink *s = sink_open(target);
	if (!s) {
		check(false, name, "open: %s", err_get());
		return;
	}
	struct jsonw *w = jsonw_new(s, false);
	bulk_doc(w, &count);
	int wr = jsonw_free(w);
	bool sticky = wr == 0 || sink_write(s, "x", 1) == -1;
	int cr = sink_close(s);
	char msg[1024], want[4400];
	snprintf(msg, sizeof(msg), "%s", err_get());
	snprintf(want, sizeof(want), "%s: write failed: %s", target, why);
	check((wr == -1 || strcmp(suffix, ".json.xz") == 0) && sticky && cr == -1 &&
		      strcmp(msg, want) == 0 &&
		      file_is(target, "OLD") && count_entries(dir) == before,
	      name, "free %d sticky %d close %d, \"%s\", %d/%d entries", wr, sticky, cr, msg,
	      count_entries(dir), before);
	unlink(target);
}

/* RLIMIT_FSIZE makes writes past the limit fail with EFBIG: a disk-full
 * stand-in that needs no privileges. */
static void test_file_size_limit(void)
{
	char *dir = make_dir("fsize");
	struct rlimit old, lim;

	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 64 * 1024;
	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &lim) < 0) {
		skip("file size limit", "setrlimit failed");
		return;
	}
	expect_write_failure(dir, ".json", "File too large");
	expect_write_failure(dir, ".json.xz", "File too large");
	expect_write_failure(dir, ".json.gz", "File too large");
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
}

/* In a child with its own mount namespace: a 64 KiB tmpfs for ENOSPC and a
 * read-only one.  Skipped where namespaces are not allowed. */
static int enter_mount_namespace(void)
{
	if (unshare(CLONE_NEWNS) == 0)
		return 0;
	/* Unprivileged: a user namespace mapping us to root in it. */
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return -1;
	char map[64];
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	FILE *f = fopen("/proc/self/uid_map", "w");
	if (!f || fputs(map, f) < 0 || fclose(f))
		return -1;
	f = fopen("/proc/self/setgroups", "w");
	if (f && (fputs("deny", f) < 0 || fclose(f)))
		return -1;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	f = fopen("/proc/self/gid_map", "w");
	if (!f || fputs(map, f) < 0 || fclose(f))
		return -1;
	return 0;
}

static void test_tmpfs_child(void)
{
	char *full = make_dir("tmpfs-full"), *ro = make_dir("tmpfs-ro");

	failures = 0;	/* the parent's count came along with fork() */

	if (enter_mount_namespace() < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", full, "tmpfs", 0, "size=64k") < 0 ||
	    mount("tmpfs", ro, "tmpfs", MS_RDONLY, "size=64k") < 0) {
		printf("skip tmpfs tests: cannot mount tmpfs here (%s)\n", strerror(errno));
		fflush(stdout);
		_exit(77);
	}
	expect_write_failure(full, ".json", "No space left on device");
	expect_write_failure(full, ".json.xz", "No space left on device");
	expect_write_failure(full, ".json.gz", "No space left on device");

	char p[4200];
	snprintf(p, sizeof(p), "%s/profile.json", ro);
	err_clear();
	struct sink *s = sink_open(p);
	check(!s && strstr(err_get(), "profile.json: cannot create temporary file") &&
		      strstr(err_get(), "Read-only file system"),
	      "read-only file system: clean error", "%s", err_get());
	sink_abort(s);
	fflush(stdout);
	_exit(failures ? 1 : 0);
}

static void test_tmpfs(void)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		test_tmpfs_child();
	int status = 0;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 77))
		check(false, "tmpfs child", "status %#x", status);
}

/* ---- stdout ------------------------------------------------------------- */

/* Runs fn with fd 1 redirected to fd; returns what sink_close() said. */
static int with_stdout_on(int fd, doc_fn *fn, void *arg, int *free_result)
{
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	struct sink *s = sink_open("-");
	struct jsonw *w = jsonw_new(s, false);
	fn(w, arg);
	*free_result = jsonw_free(w);
	int r = sink_close(s);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	return r;
}

static void test_stdout(void)
{
	const char *p = path_in("stdout.json");
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644), fr;
	int r = with_stdout_on(fd, small_doc, NULL, &fr);
	close(fd);
	check(r == 0 && fr == 0 && file_is(p, small_compact), "stdout gets the document", NULL);

	size_t count = 50000;
	fd = open("/dev/full", O_WRONLY);
	if (fd >= 0) {
		err_clear();
		r = with_stdout_on(fd, bulk_doc, &count, &fr);
		close(fd);
		check(r == -1 && fr == -1 &&
			      strcmp(err_get(), "stdout: write failed: No space left on device") == 0,
		      "stdout on /dev/full: ENOSPC reported", "%s", err_get());
	} else {
		skip("stdout on /dev/full: ENOSPC reported", "no /dev/full");
	}

	int pfd[2];
	if (pipe(pfd) == 0) {
		signal(SIGPIPE, SIG_IGN);	/* as the CLI does */
		close(pfd[0]);
		err_clear();
		r = with_stdout_on(pfd[1], bulk_doc, &count, &fr);
		close(pfd[1]);
		signal(SIGPIPE, SIG_DFL);
		check(r == -1 && fr == -1 &&
			      strcmp(err_get(), "stdout: write failed: Broken pipe") == 0,
		      "stdout pipe closed early: EPIPE reported", "%s", err_get());
	}
}

/* ---- misuse aborts ------------------------------------------------------ */

static void deep_doc(struct jsonw *w, void *arg)
{
	int depth = *(int *)arg;
	for (int k = 0; k < depth; k++)
		jsonw_start_array(w);
	for (int k = 0; k < depth; k++)
		jsonw_end_array(w);
}

static void name_in_array_doc(struct jsonw *w, void *arg)
{
	(void)arg;
	jsonw_start_array(w);
	jsonw_name(w, "oops");
}

static void value_without_name_doc(struct jsonw *w, void *arg)
{
	(void)arg;
	jsonw_start_object(w);
	jsonw_uint(w, 1);
}

static void mismatched_end_doc(struct jsonw *w, void *arg)
{
	(void)arg;
	jsonw_start_object(w);
	jsonw_end_array(w);
}

/* The child must die with SIGABRT and say `what` on stderr. */
static void expect_abort(const char *name, doc_fn *fn, void *arg, const char *what)
{
	int pfd[2];
	if (pipe(pfd) < 0)
		exit(1);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pfd[1], STDERR_FILENO);
		close(pfd[0]);
		struct sink *s = sink_open(path_in("abort.json"));
		struct jsonw *w = jsonw_new(s, false);
		fn(w, arg);
		_exit(0);
	}
	close(pfd[1]);
	char msg[512] = "";
	ssize_t n = read(pfd[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = 0;
	close(pfd[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	check(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT && strstr(msg, what), name,
	      "status %#x, stderr \"%s\"", status, msg);
}

static void test_misuse(void)
{
	int ok_depth = 64, bad_depth = 65;
	char want[64 * 2 + 1];
	for (int k = 0; k < 64; k++) {
		want[k] = '[';
		want[64 + k] = ']';
	}
	want[128] = 0;
	render_is(false, deep_doc, &ok_depth, want, "nesting 64 deep is fine");
	expect_abort("nesting 65 deep aborts", deep_doc, &bad_depth, "nesting deeper than 64");
	expect_abort("jsonw_name in an array aborts", name_in_array_doc, NULL, "outside an object");
	expect_abort("value without a key aborts", value_without_name_doc, NULL,
		     "without jsonw_name");
	expect_abort("mismatched end aborts", mismatched_end_doc, NULL, "outside an array");
}

/* ---- big round-trip ----------------------------------------------------- */

static void million_doc(struct jsonw *w, void *arg)
{
	size_t count = *(size_t *)arg;
	uint64_t st = 2024;
	jsonw_start_object(w);
	jsonw_name(w, "u");
	jsonw_start_array(w);
	for (size_t k = 0; k < count; k++)
		jsonw_uint(w, splitmix64(&st) >> (k % 64));
	jsonw_end_array(w);
	jsonw_name(w, "i");
	jsonw_start_array(w);
	for (size_t k = 0; k < count / 10; k++)
		jsonw_int(w, (int64_t)splitmix64(&st) >> (k % 64));
	jsonw_end_array(w);
	jsonw_end_object(w);
}

static void test_round_trip(bool pretty, size_t count)
{
	char name[128];
	size_t len = 0;
	snprintf(name, sizeof(name), "%zu u64 + %zu s64 values round-trip via json-c (%s)",
		 count, count / 10, pretty ? "pretty" : "compact");
	char *text = render(pretty, million_doc, &count, &len);
	struct json_object *o = text ? parse_strict(text, len) : NULL, *u = NULL, *i = NULL;
	free(text);
	if (!o || !json_object_object_get_ex(o, "u", &u) ||
	    !json_object_object_get_ex(o, "i", &i) || json_object_array_length(u) != count ||
	    json_object_array_length(i) != count / 10) {
		check(false, name, "bad document");
		json_object_put(o);
		return;
	}
	uint64_t st = 2024;
	size_t bad = 0;
	for (size_t k = 0; k < count; k++) {
		struct json_object *e = json_object_array_get_idx(u, k);
		if (json_object_get_uint64(e) != splitmix64(&st) >> (k % 64))
			bad++;
	}
	for (size_t k = 0; k < count / 10; k++) {
		struct json_object *e = json_object_array_get_idx(i, k);
		if (json_object_get_int64(e) != (int64_t)splitmix64(&st) >> (k % 64))
			bad++;
	}
	check(bad == 0, name, "%zu mismatches", bad);
	json_object_put(o);
}

/* ---- dwarf2json's own output ------------------------------------------- */

/* Writes a json-c tree back out through the writer, keys in stored order. */
static void emit_tree(struct jsonw *w, struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_object:
		jsonw_start_object(w);
		json_object_object_foreach(o, key, val) {
			jsonw_name(w, key);
			emit_tree(w, val);
		}
		jsonw_end_object(w);
		break;
	case json_type_array:
		jsonw_start_array(w);
		for (size_t k = 0; k < json_object_array_length(o); k++)
			emit_tree(w, json_object_array_get_idx(o, k));
		jsonw_end_array(w);
		break;
	case json_type_string:
		jsonw_string_len(w, json_object_get_string(o),
				 (size_t)json_object_get_string_len(o));
		break;
	case json_type_boolean:
		jsonw_bool(w, json_object_get_boolean(o));
		break;
	case json_type_int:
		/* get_int64 clamps values above INT64_MAX, so it tells the sign. */
		if (json_object_get_int64(o) < 0)
			jsonw_int(w, json_object_get_int64(o));
		else
			jsonw_uint(w, json_object_get_uint64(o));
		break;
	default:
		printf("unexpected JSON type %d in reference\n", json_object_get_type(o));
		abort();
	}
}

static void tree_doc(struct jsonw *w, void *arg) { emit_tree(w, arg); }

/* The strongest format check there is: parse a real dwarf2json profile and
 * write it back in pretty mode; the bytes must be identical. */
static void test_dwarf2json_reference(void)
{
	const char *name = "dwarf2json 6.1 profile re-emitted byte-identical (pretty)";
	const char *ref = getenv("REF");
	char path[1024], cmd[1200];
	size_t want_len = 0, got_len = 0;

	snprintf(path, sizeof(path), "%s/debian-6.1.0-56-amd64/dwarf2json.isf.json.xz",
		 ref ? ref : "");
	if (!ref || !*ref || access(path, R_OK) != 0 || !have_cmd("xz")) {
		skip(name, "no reference data (REF) or no xz");
		return;
	}
	snprintf(cmd, sizeof(cmd), "xz -dc '%s'", path);
	char *want = slurp_cmd(cmd, &want_len);
	struct json_object *tree = want ? parse_strict(want, want_len) : NULL;
	char *got = tree ? render(true, tree_doc, tree, &got_len) : NULL;
	check(got && got_len == want_len && memcmp(got, want, want_len) == 0, name,
	      "%zu vs %zu bytes", got_len, want_len);
	json_object_put(tree);
	free(want);
	free(got);
}

/* ---- main --------------------------------------------------------------- */

static void remove_tree(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	int n = snprintf(top_dir, sizeof(top_dir), "%s/test_jsonw.XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
	if (n >= (int)sizeof(top_dir) || !mkdtemp(top_dir)) {
		printf("cannot create a temporary directory: %s\n", strerror(errno));
		return 77;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	test_golden();
	test_numbers();
	test_escaping();
	test_long_strings();
	test_compression();
	test_unsupported_names();
	test_atomic_replace();
	test_file_size_limit();
	test_tmpfs();
	test_stdout();
	test_misuse();
	test_round_trip(false, 1000000);
	test_round_trip(true, 100000);
	test_dwarf2json_reference();

	remove_tree(top_dir);
	printf("%s\n", failures ? "FAILED" : "all checks passed");
	return failures ? 1 : 0;
}
