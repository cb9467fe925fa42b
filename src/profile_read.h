/* Reading a Volatility3 ISF profile (ours or dwarf2json's) for the few
 * questions `btf2isf check` asks: symbol addresses, the banner, struct member
 * offsets and the types of those members.
 *
 * Input is .json, .json.xz, .json.gz or .json.bz2, recognised by content.
 * Profiles run to 60 MB of JSON, so the document is not parsed whole: one
 * structural pass indexes the members of "base_types", "user_types", "enums"
 * and "symbols" by name (byte ranges), and only the entries asked for are
 * parsed, with json-c, whose json_object_get_uint64() keeps kernel addresses
 * (above INT64_MAX) exact.  A profile is attacker-influenced input like an
 * image: nesting depth, sizes and recursion are bounded, every failure is an
 * err_set() message naming the profile item. */
#ifndef B2I_PROFILE_READ_H
#define B2I_PROFILE_READ_H

#include "util.h"

struct isf;

enum isf_kind {
	ISF_KIND_UNKNOWN = 0,
	ISF_KIND_BASE,
	ISF_KIND_POINTER,
	ISF_KIND_ARRAY,
	ISF_KIND_STRUCT,
	ISF_KIND_UNION,
	ISF_KIND_CLASS,
	ISF_KIND_ENUM,
	ISF_KIND_BITFIELD,
	ISF_KIND_FUNCTION,
};

#define ISF_NAME_MAX 128

/* A type descriptor ({"kind": ..., "name"/"subtype"/"count": ...}),
 * resolved one level: for pointers and arrays the element's kind and name. */
struct isf_type {
	enum isf_kind kind;
	char name[ISF_NAME_MAX];	/* base/struct/union/class/enum name ("" otherwise) */
	uint64_t count;			/* arrays */
	enum isf_kind sub_kind;		/* pointer target / array element */
	char sub_name[ISF_NAME_MAX];
	uint64_t size;			/* bytes (0 when the profile cannot say) */
	uint64_t sub_size;		/* bytes of one element / of the target */
};

/* A member of a struct, after flattening anonymous members the way
 * Volatility3 does: a member not found directly is looked for, depth first,
 * in each member marked "anonymous": true, offsets added. */
struct isf_field {
	uint64_t offset;
	struct isf_type type;
};

/* Load `path`.  0, or -1 with err_set() ("PATH: why"). */
int isf_open(const char *path, struct isf **out);
void isf_close(struct isf *p);	/* NULL-safe */

/* Counts from the index, and metadata.producer ("btf2isf 0.1.0"). */
size_t isf_nsymbols(const struct isf *p);
size_t isf_ntypes(const struct isf *p);
const char *isf_producer(const struct isf *p);
size_t isf_bytes(const struct isf *p);	/* decompressed JSON size */

/* Link-time address of symbol `name`: 1 found, 0 absent, -1 malformed
 * entry (err_set). */
int isf_symbol(struct isf *p, const char *name, uint64_t *addr);

/* linux_banner's constant_data, base64-decoded (borrowed, valid until
 * isf_close).  -1 with err_set() if absent or malformed. */
int isf_banner(struct isf *p, struct span *out);

/* Size of user type / base type `name`: 1, 0 absent, -1 malformed. */
int isf_user_type_size(struct isf *p, const char *name, uint64_t *size);
int isf_base_type_size(struct isf *p, const char *name, uint64_t *size);

/* Member `member` of struct/union `type` ("task_struct", "tasks").
 * 0, or -1 with err_set() ("profile: task_struct has no member 'tasks'"). */
int isf_field(struct isf *p, const char *type, const char *member, struct isf_field *out);

/* Parse a profile held in memory (tests).  Takes a copy. */
int isf_open_mem(const void *json, size_t n, struct isf **out);

#endif
