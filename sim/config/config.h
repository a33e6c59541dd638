/*
 * sim/config: generic scenario machinery. YAML text -> a tree of nodes that
 * remember file:line:col; `include:` merging; `--set` overrides; unit
 * parsing; and a table-driven decoder that turns a tree into typed structs.
 *
 * Each room owns its own section: it declares its struct and a
 * `struct cfg_schema` table (key, type, offset, default, doc) in the style of
 * netplan's parse.c; this room only walks the tables.
 *
 * Invariants:
 *  - Every node carries the position where its text was written, also after
 *    includes and overrides, so every error reads "file:line:col: ...".
 *  - Decoding is all-or-nothing per call: on error the destination may be
 *    partly filled but the caller discards it (memory is in the doc's arena).
 *  - An unknown key is always an error that names the closest valid key.
 *  - All memory of a doc (nodes, strings, decoded lists) lives in its arena
 *    and is freed by cfg_doc_release().
 */
#ifndef SIM_CONFIG_H
#define SIM_CONFIG_H

#include "../core/core.h"

/* ---- units ----------------------------------------------------------------
 * Each parser takes the whole string (surrounding blanks allowed), returns 0
 * or -1 with a sentence in msg (no position: the caller adds it).
 *   duration : 250ms 15s 5m 1h 2d 100us 10ns, or a plain number of seconds
 *   size     : 10GB 500MiB 4KiB 12B, or a plain number of bytes (decimal units
 *              are powers of 1000, binary ones of 1024)
 *   bandwidth: 500MB/s 10Gbps 1GiB/s 800Mbit/s, or a plain number of bytes/s
 *   rate     : 10/s 600/min 36000/h, or a plain number per second
 *   quantity : a Kubernetes resource quantity (500m 4 1.5 2Ki 1e3), in
 *              milli-units rounded up as Quantity.MilliValue() does
 */
int cfg_parse_duration(const char *s, sim_time *out, char *msg, size_t n);
int cfg_parse_size(const char *s, int64_t *bytes, char *msg, size_t n);
int cfg_parse_bandwidth(const char *s, double *bytes_per_s, char *msg, size_t n);
int cfg_parse_rate(const char *s, double *per_s, char *msg, size_t n);
int cfg_parse_quantity(const char *s, int64_t *milli, char *msg, size_t n);
int cfg_parse_int(const char *s, int64_t *out, char *msg, size_t n);
int cfg_parse_double(const char *s, double *out, char *msg, size_t n);
int cfg_parse_bool(const char *s, bool *out, char *msg, size_t n);

/* ---- tree ---------------------------------------------------------------- */

struct cfg_pos {
	const char *file;
	int line, col; /* 1-based */
};

enum cfg_kind { CFG_NULL, CFG_SCALAR, CFG_MAP, CFG_SEQ };

struct cfg_node {
	enum cfg_kind kind;
	struct cfg_pos pos;
	const char *str; /* scalar text (NUL-terminated), "" for null */
	bool quoted;     /* scalar was quoted or a block literal */
	/* map: keys[i] -> vals[i] (keys are scalars); seq: vals[i] */
	struct cfg_node **keys, **vals;
	size_t n, cap;
};

struct cfg_doc {
	struct sim_arena arena;
	struct cfg_node *root;
	const char *file; /* the top-level file */
	size_t nodes;     /* guards against alias bombs */
	int nsets;        /* --set overrides applied so far */
};

void cfg_doc_init(struct cfg_doc *d);
void cfg_doc_release(struct cfg_doc *d);
/* Loads a YAML file whose root must be a mapping; resolves includes. */
int cfg_doc_load_file(struct cfg_doc *d, const char *path, struct sim_err *err);
/* The same from memory; `name` is the file name used in positions. */
int cfg_doc_load_string(struct cfg_doc *d, const char *name, const char *text,
			size_t len, struct sim_err *err);
/* Applies "path.to[0].key=value" (value is YAML) to the tree. */
int cfg_doc_set(struct cfg_doc *d, const char *assignment, struct sim_err *err);

const char *cfg_kind_name(enum cfg_kind k);
struct cfg_node *cfg_map_get(const struct cfg_node *map, const char *key);
/* Looks up "a.b[2].c"; NULL when absent. */
struct cfg_node *cfg_lookup(const struct cfg_node *root, const char *path);
bool cfg_is_null(const struct cfg_node *n);
/* Parses YAML text (e.g. a default) into nodes owned by d. */
struct cfg_node *cfg_doc_parse_fragment(struct cfg_doc *d, const char *name,
					const char *text, struct sim_err *err);
/* Loads any YAML file (root of any kind) into d's arena, without includes. */
struct cfg_node *cfg_doc_load_extra(struct cfg_doc *d, const char *path,
				    struct sim_err *err);

/* The tree as block-style YAML text (malloc'd; the caller frees it). */
char *cfg_to_yaml(const struct cfg_node *root);

/* ---- schema-driven decoding ---------------------------------------------- */

enum cfg_type {
	CFG_T_INT,       /* int64_t */
	CFG_T_DOUBLE,    /* double */
	CFG_T_BOOL,      /* bool */
	CFG_T_STR,       /* const char * */
	CFG_T_PATH,      /* const char *, relative to the file it was written in */
	CFG_T_DURATION,  /* sim_time */
	CFG_T_SIZE,      /* int64_t bytes */
	CFG_T_BANDWIDTH, /* double bytes/s */
	CFG_T_RATE,      /* double per second */
	CFG_T_QUANTITY,  /* int64_t milli-units (Kubernetes quantity) */
	CFG_T_ENUM,      /* int: index into enums[] */
	CFG_T_STRUCT,    /* embedded struct, decoded by sub */
	CFG_T_LIST,      /* struct cfg_list of sub (or of elem when sub is NULL) */
	CFG_T_ANY,       /* const struct cfg_node *, kept as written */
	CFG_T_CUSTOM,    /* fn decodes; sub (optional) documents the map form */
};

/* Field flags. */
#define CFG_REQUIRED 0x1u
#define CFG_MIN 0x2u  /* value >= min */
#define CFG_MAX 0x4u  /* value <= max */
#define CFG_GT 0x8u   /* value > min (with CFG_MIN semantics replaced) */
#define CFG_HIDDEN 0x10u /* not documented (internal aliases) */

struct cfg_list {
	void *items;
	size_t n;
};
#define CFG_LIST_AT(l, T, i) (&((T *)(l).items)[i])

struct cfg_ctx;
struct cfg_schema;
typedef int (*cfg_custom_fn)(struct cfg_ctx *c, const struct cfg_node *n,
			     void *dst);
typedef int (*cfg_check_fn)(struct cfg_ctx *c, const struct cfg_node *n,
			    void *obj);

struct cfg_field {
	const char *key;
	enum cfg_type type;
	size_t off;
	const char *def; /* default, as YAML text; NULL: zero / absent */
	const char *doc; /* one sentence for docs/scenario.md */
	const struct cfg_schema *sub;
	const char *const *enums; /* NULL-terminated */
	enum cfg_type elem;       /* LIST of scalars: their type */
	unsigned flags;
	double min, max;
	cfg_custom_fn fn;
	size_t has_off; /* with has: offset of a bool set when the key is given */
	bool has;
};

struct cfg_schema {
	const char *name; /* for docs: what the section is */
	size_t size;      /* sizeof the struct (list elements) */
	const struct cfg_field *fields; /* ends with a {NULL} entry */
	cfg_check_fn check; /* cross-field validation after decoding */
	const char *doc;
};

struct cfg_ctx {
	struct cfg_doc *doc;
	struct sim_err *err;
	char path[512]; /* dotted path of the node being decoded */
	size_t depth;
};

void cfg_ctx_init(struct cfg_ctx *c, struct cfg_doc *d, struct sim_err *err);
/* Decodes map node n into obj (of s->size bytes, zeroed by the caller). */
int cfg_decode(struct cfg_ctx *c, const struct cfg_node *n,
	       const struct cfg_schema *s, void *obj);
/* Fills obj with the schema's defaults only. */
void cfg_defaults(struct cfg_ctx *c, const struct cfg_schema *s, void *obj);
/* Decodes one scalar value of a simple type into dst. */
int cfg_decode_value(struct cfg_ctx *c, const struct cfg_node *n,
		     const struct cfg_field *f, void *dst);
/* Error at node n, prefixed with the current path. Returns -1. */
int cfg_error(struct cfg_ctx *c, const struct cfg_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Path stack helpers for custom decoders. */
size_t cfg_path_push_key(struct cfg_ctx *c, const char *key);
size_t cfg_path_push_index(struct cfg_ctx *c, size_t i);
void cfg_path_pop(struct cfg_ctx *c, size_t mark);
/* Resolves a path written in node n's file relative to that file. */
const char *cfg_resolve_path(struct cfg_ctx *c, const struct cfg_node *n,
			     const char *path);

/* Closest of the candidates to `word` by edit distance, or NULL if none is
 * near enough to be a likely typo. */
const char *cfg_closest(const char *word, const char *const *cands, size_t n);

/* ---- helpers for common shapes ------------------------------------------ */

/* A [time, value] pair, as in `ramps: [[0s, 2/s], [30m, 20/s]]`. */
struct cfg_tpair {
	sim_time t;
	double v;
};
/* Custom decoders into a struct cfg_list of struct cfg_tpair, times
 * non-decreasing: values are rates, or whole numbers >= 0. */
int cfg_custom_rate_pairs(struct cfg_ctx *c, const struct cfg_node *n, void *dst);
int cfg_custom_count_pairs(struct cfg_ctx *c, const struct cfg_node *n, void *dst);

/* A mapping with free keys (SLO classes, score weights): decoded into a
 * struct cfg_list of struct cfg_named, each value by `s`. */
struct cfg_named {
	const char *name;
	const struct cfg_node *node;
	void *value; /* s->size bytes, decoded */
};
int cfg_decode_named_map(struct cfg_ctx *c, const struct cfg_node *n,
			 const struct cfg_schema *s, struct cfg_list *out);
/* The same where each value is a number. */
int cfg_decode_number_map(struct cfg_ctx *c, const struct cfg_node *n,
			  struct cfg_list *out);
/* Error helper for post-decode checks: the node at `path` below `n` (or n
 * itself when absent) gets the error, with path appended to the context. */
int cfg_error_at_key(struct cfg_ctx *c, const struct cfg_node *n,
		     const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- documentation ------------------------------------------------------- */

/* Visits every documented key below schema s; `prefix` is s's own path. */
typedef void (*cfg_doc_visit_fn)(void *ud, const char *path,
				 const struct cfg_field *f);
void cfg_schema_walk(const struct cfg_schema *s, const char *prefix,
		     cfg_doc_visit_fn fn, void *ud);
const char *cfg_type_name(const struct cfg_field *f);

#endif
