/* BTF → ISF types on small BTF built here: bitfields in both encodings,
 * anonymous nesting and naming, typedef chains, enum signedness, ENUM64, FWD,
 * qualifiers, arrays, function pointers, per-CPU VAR typing. */
#include "check.h"
#include "isftypes.h"
#include "jsonw.h"
#include "log.h"

#include <bpf/btf.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/b2i-isftypes-XXXXXX";

/* Run all three section writers plus one descriptor into a JSON document and
 * parse it back. */
static struct json_object *emit(const struct btf *btf, uint32_t desc_id)
{
	char path[256];
	struct isf_types *t = isf_types_new(btf);
	snprintf(path, sizeof(path), "%s/out.json", tmpdir);
	struct sink *s = sink_open(path);
	struct jsonw *w = jsonw_new(s, false);
	jsonw_start_object(w);
	jsonw_name(w, "base_types");
	isf_types_write_base_types(t, w);
	static const char *const sections[] = { [ISF_USER_TYPES] = "user_types", [ISF_ENUMS] = "enums" };
	struct isf_write_cache *cache = isf_write_cache_new(false);
	for (enum isf_section sec = ISF_USER_TYPES; sec <= ISF_ENUMS; sec++) {
		jsonw_name(w, sections[sec]);
		jsonw_start_object(w);
		isf_types_write_members(t, sec, w, 0, isf_types_count(t, sec), cache);
		jsonw_end_object(w);
	}
	isf_write_cache_free(cache);
	jsonw_name(w, "desc");
	isf_types_write_descriptor(t, w, desc_id);
	jsonw_end_object(w);
	if (jsonw_free(w) < 0 || sink_close(s) < 0) {
		fprintf(stderr, "write failed: %s\n", err_get());
		exit(1);
	}
	isf_types_free(t);
	return json_object_from_file(path);
}

static struct json_object *at(struct json_object *o, const char *path)
{
	char buf[256], *save = NULL;
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, "/", &save); k && o; k = strtok_r(NULL, "/", &save))
		if (!json_object_object_get_ex(o, k, &o))
			return NULL;
	return o;
}

static const char *str_at(struct json_object *o, const char *path)
{
	struct json_object *v = at(o, path);
	return v ? json_object_get_string(v) : NULL;
}

static long long int_at(struct json_object *o, const char *path)
{
	struct json_object *v = at(o, path);
	return v ? json_object_get_int64(v) : -999999;
}

static void test_structs(void)
{
	struct btf *b = btf__new_empty();
	int u32 = btf__add_int(b, "unsigned int", 4, 0);
	int s64 = btf__add_int(b, "long long int", 8, BTF_INT_SIGNED);
	int chr = btf__add_int(b, "char", 1, BTF_INT_SIGNED | BTF_INT_CHAR);
	int bol = btf__add_int(b, "_Bool", 1, BTF_INT_BOOL);
	/* typedef struct { s64 counter; } atomic64_t; typedef atomic64_t atomic_long_t; */
	int anon = btf__add_struct(b, NULL, 8);
	btf__add_field(b, "counter", s64, 0, 0);
	int a64 = btf__add_typedef(b, "atomic64_t", anon);
	int along = btf__add_typedef(b, "atomic_long_t", a64);
	/* struct list_head { struct list_head *next, *prev; } */
	/* (pointers must precede the struct in libbpf's builder: via a FWD) */
	int lhp = btf__add_ptr(b, btf__add_fwd(b, "list_head", BTF_FWD_STRUCT));
	int lh = btf__add_struct(b, "list_head", 16);
	btf__add_field(b, "next", lhp, 0, 0);
	btf__add_field(b, "prev", lhp, 64, 0);
	int spin = btf__add_struct(b, "spinlock", 4);
	btf__add_field(b, "val", u32, 0, 0);
	int spin_t = btf__add_typedef(b, "spinlock_t", spin);
	int cspin = btf__add_const(b, spin_t);
	int fwd = btf__add_fwd(b, "opaque", BTF_FWD_STRUCT);
	int fwdp = btf__add_ptr(b, fwd);
	int proto = btf__add_func_proto(b, u32);
	int fp = btf__add_ptr(b, proto);
	int arr = btf__add_array(b, u32, u32, 16);
	int flex = btf__add_array(b, chr, u32, 0);
	int inner_u = btf__add_union(b, NULL, 8);
	btf__add_field(b, "as_u64", s64, 0, 0);
	btf__add_field(b, "bytes", btf__add_array(b, chr, u32, 8), 0, 0);
	/* struct task { atomic_long_t refs; list_head tasks; const spinlock_t lock;
	 *   union { ... }; unsigned a:3, b:5 (kind_flag encoding); _Bool flag;
	 *   struct opaque *o; int (*fn)(void); unsigned arr[16]; char name[]; } */
	btf__add_struct(b, "task", 96);
	btf__add_field(b, "refs", along, 0, 0);
	btf__add_field(b, "tasks", lh, 64, 0);
	btf__add_field(b, "lock", cspin, 192, 0);
	btf__add_field(b, NULL, inner_u, 256, 0);
	btf__add_field(b, "a", u32, 320, 3);
	btf__add_field(b, "b", u32, 323, 5);
	btf__add_field(b, "flag", bol, 328, 0);
	btf__add_field(b, "o", fwdp, 384, 0);
	btf__add_field(b, "fn", fp, 448, 0);
	btf__add_field(b, "arr", arr, 512, 0);
	btf__add_field(b, "name", flex, 768, 0);

	struct json_object *j = emit(b, along);
	CHECK(j != NULL, "ISF sections parse as JSON");
	CHECK_STR(str_at(j, "desc/kind"), "struct", "atomic_long_t resolves to a struct");
	CHECK_STR(str_at(j, "desc/name"), "atomic64_t", "named after the innermost typedef");
	CHECK(int_at(j, "user_types/atomic64_t/size") == 8, "atomic64_t is listed as a user type");
	CHECK(at(j, "user_types/atomic_long_t") == NULL, "outer typedef atomic_long_t is not a user type");
	CHECK_STR(str_at(j, "user_types/task/fields/refs/type/name"), "atomic64_t", "member through typedef chain");
	CHECK_STR(str_at(j, "user_types/task/fields/lock/type/name"), "spinlock", "typedef of a named struct is transparent (const too)");
	CHECK(int_at(j, "user_types/spinlock_t/size") == 4, "typedef naming a struct is listed under its own name too");
	CHECK_STR(str_at(j, "user_types/task/fields/tasks/type/name"), "list_head", "struct member");
	CHECK(int_at(j, "user_types/task/fields/tasks/offset") == 8, "member byte offset");
	CHECK_STR(str_at(j, "user_types/list_head/fields/next/type/kind"), "pointer", "pointer member");
	CHECK_STR(str_at(j, "user_types/list_head/fields/next/type/subtype/name"), "list_head", "pointer subtype");
	/* anonymous union member */
	CHECK(json_object_get_boolean(at(j, "user_types/task/fields/unnamed_field_0/anonymous")), "anonymous member flagged");
	char uname_buf[64] = "";
	const char *uname = str_at(j, "user_types/task/fields/unnamed_field_0/type/name");
	if (uname)	/* kept past json_object_put() below */
		uname = strncpy(uname_buf, uname, sizeof(uname_buf) - 1);
	CHECK(uname && !strncmp(uname, "unnamed_", 8) && strlen(uname) == 24, "anonymous union named unnamed_<16 hex>: %s", uname ? uname : "-");
	CHECK_STR(str_at(j, "user_types/task/fields/unnamed_field_0/type/kind"), "union", "anonymous member kind");
	if (uname) {
		char path[128];
		snprintf(path, sizeof(path), "user_types/%s/fields/as_u64/offset", uname);
		CHECK(int_at(j, path) == 0, "the anonymous union is defined in user_types");
	}
	CHECK(int_at(j, "user_types/task/fields/unnamed_field_0/offset") == 32, "anonymous member offset");
	/* bitfields, kind_flag encoding */
	CHECK_STR(str_at(j, "user_types/task/fields/a/type/kind"), "bitfield", "bitfield kind");
	CHECK(int_at(j, "user_types/task/fields/a/offset") == 40 && int_at(j, "user_types/task/fields/a/type/bit_position") == 0 &&
	      int_at(j, "user_types/task/fields/a/type/bit_length") == 3, "bitfield a: byte 40, bit 0, 3 bits");
	CHECK(int_at(j, "user_types/task/fields/b/offset") == 40 && int_at(j, "user_types/task/fields/b/type/bit_position") == 3 &&
	      int_at(j, "user_types/task/fields/b/type/bit_length") == 5, "bitfield b: byte 40, bit 3, 5 bits");
	CHECK_STR(str_at(j, "user_types/task/fields/b/type/type/name"), "unsigned int", "bitfield inner base type");
	CHECK_STR(str_at(j, "user_types/task/fields/o/type/subtype/name"), "opaque", "FWD referenced by name");
	CHECK(at(j, "user_types/opaque") == NULL, "FWD has no definition");
	CHECK_STR(str_at(j, "user_types/task/fields/fn/type/subtype/kind"), "function", "function pointer");
	CHECK(int_at(j, "user_types/task/fields/arr/type/count") == 16, "array count");
	CHECK(int_at(j, "user_types/task/fields/name/type/count") == 0, "flexible array count 0");
	CHECK_STR(str_at(j, "base_types/char/kind"), "char", "char base kind");
	CHECK_STR(str_at(j, "base_types/_Bool/kind"), "bool", "bool base kind");
	CHECK(int_at(j, "base_types/pointer/size") == 8, "pointer base type present, 8 bytes");
	CHECK_STR(str_at(j, "base_types/void/kind"), "void", "void base type present");
	json_object_put(j);

	/* Determinism and layout-derived anonymous names. */
	struct json_object *j2 = emit(b, along);
	CHECK_STR(str_at(j2, "user_types/task/fields/unnamed_field_0/type/name"), uname ? uname : "", "anonymous name is stable");
	json_object_put(j2);
	btf__free(b);
}

static void test_enums(void)
{
	struct btf *b = btf__new_empty();
	int u32 = btf__add_int(b, "unsigned int", 4, 0);
	btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	btf__add_int(b, "long int", 8, BTF_INT_SIGNED);
	btf__add_int(b, "long unsigned int", 8, 0);
	btf__add_int(b, "unsigned char", 1, BTF_INT_CHAR);
	btf__add_enum(b, "pid_type", 4);
	btf__add_enum_value(b, "PIDTYPE_PID", 0);
	btf__add_enum_value(b, "PIDTYPE_MAX", 4);
	int se = btf__add_enum(b, "signed_e", 4);
	btf__add_enum_value(b, "NEG", -5);
	btf__add_enum_value(b, "POS", 7);
	(void)se;
	btf__add_enum64(b, "big", 8, false);
	btf__add_enum64_value(b, "HIGH", 0x8000000000000000ULL);
	btf__add_enum64_value(b, "LOW", 1);
	btf__add_enum(b, "tiny", 1);
	btf__add_enum_value(b, "T0", 0);
	int anon_e = btf__add_enum(b, NULL, 4);
	btf__add_enum_value(b, "X_A", 1);
	btf__add_typedef(b, "x_t", anon_e);

	struct json_object *j = emit(b, u32);
	CHECK_STR(str_at(j, "enums/pid_type/base"), "unsigned int", "unsigned enum base");
	CHECK(int_at(j, "enums/pid_type/constants/PIDTYPE_MAX") == 4, "enum constant");
	CHECK_STR(str_at(j, "enums/signed_e/base"), "int", "signed enum base");
	CHECK(int_at(j, "enums/signed_e/constants/NEG") == -5, "negative constant");
	CHECK_STR(str_at(j, "enums/big/base"), "long int", "ENUM64 with the top bit set: signed base like dwarf2json");
	CHECK(int_at(j, "enums/big/constants/HIGH") == (long long)0x8000000000000000ULL, "ENUM64 value as int64");
	CHECK_STR(str_at(j, "enums/tiny/base"), "unsigned char", "1-byte enum gets a 1-byte base, not void");
	CHECK(int_at(j, "enums/x_t/constants/X_A") == 1, "anonymous enum named by its typedef");
	json_object_put(j);
	btf__free(b);
}

/* The pre-kind_flag bitfield encoding: offset and width live in the INT. */
static void test_legacy_bitfield(void)
{
	/* hand-built: [1] INT u32 32 bits, [2] INT u32 with bit offset 0, 4 bits,
	 * [3] STRUCT s size 4 kflag 0 { x: type 2 at bit 8 } */
	static const char strs[] = "\0unsigned int\0s\0x";
	uint32_t types[] = {
		1, (1u << 24), 4, 32,			/* INT "unsigned int" */
		1, (1u << 24), 4, (0u << 16) | 4,	/* INT, 4 bits */
		14, (4u << 24) | 1, 4, 16, 2, 8,	/* STRUCT "s" {x} */
	};
	uint8_t raw[24 + sizeof(types) + sizeof(strs)];
	uint32_t hdr[6] = { 0x0001eb9f, 24, 0, sizeof(types), sizeof(types), sizeof(strs) };
	memcpy(raw, hdr, 24);
	memcpy(raw + 24, types, sizeof(types));
	memcpy(raw + 24 + sizeof(types), strs, sizeof(strs));
	struct btf *b = btf__new(raw, sizeof(raw));
	CHECK(b != NULL, "hand-built BTF parses");
	if (!b)
		return;
	struct json_object *j = emit(b, 1);
	CHECK_STR(str_at(j, "user_types/s/fields/x/type/kind"), "bitfield", "INT-encoded bitfield recognised");
	CHECK(int_at(j, "user_types/s/fields/x/offset") == 1 && int_at(j, "user_types/s/fields/x/type/bit_length") == 4 &&
	      int_at(j, "user_types/s/fields/x/type/bit_position") == 0, "legacy bitfield: byte 1, 4 bits");
	json_object_put(j);
	btf__free(b);
}

static void test_vars(void)
{
	struct btf *b = btf__new_empty();
	int u64 = btf__add_int(b, "long unsigned int", 8, 0);
	int v = btf__add_var(b, "runqueue_count", BTF_VAR_GLOBAL_ALLOCATED, u64);
	btf__add_datasec(b, ".data..percpu", 8);
	btf__add_datasec_var_info(b, v, 0, 8);
	struct isf_types *t = isf_types_new(b);
	uint32_t off = 1;
	CHECK(isf_types_var_type(t, "runqueue_count", &off) == (uint32_t)u64 && off == 0, "per-CPU VAR typed from DATASEC");
	CHECK(isf_types_var_type(t, "nothing", &off) == 0, "unknown variable untyped");
	CHECK(isf_types_has(t, "base", "long unsigned int") && !isf_types_has(t, "struct", "x"), "name lookups");
	isf_types_free(t);
	btf__free(b);
}

/* Two structs named "dup": the one that members use (here through a
 * pointer and a typedef) is the one listed. */
static void test_duplicate_names(void)
{
	struct btf *b = btf__new_empty();
	int i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	int used = btf__add_struct(b, "dup", 8);
	btf__add_field(b, "b", i32, 0, 0);
	/* Later: without use counts, the tie-break on ids would pick it. */
	btf__add_struct(b, "dup", 4);
	btf__add_field(b, "a", i32, 0, 0);
	int td = btf__add_typedef(b, "dup_t", used);
	int ptr = btf__add_ptr(b, td);
	btf__add_struct(b, "user", 16);
	btf__add_field(b, "p", ptr, 0, 0);
	btf__add_field(b, "q", ptr, 64, 0);
	struct json_object *j = emit(b, 0);
	CHECK(int_at(j, "user_types/dup/size") == 8 && at(j, "user_types/dup/fields/b"),
	      "of two same-named structs the used one is listed");
	json_object_put(j);
	btf__free(b);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		return 1;
	test_structs();
	test_enums();
	test_legacy_bitfield();
	test_vars();
	test_duplicate_names();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 1;
	return check_finish();
}
