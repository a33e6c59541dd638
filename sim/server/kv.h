/*
 * Paged KV cache of one replica. Blocks are counted, not listed: decode and
 * unique prompt blocks are anonymous (a count per request, derived from its
 * length); prompt blocks with a prefix hash are objects shared by reference
 * count, kept after release in an LRU list until evicted.
 * Invariant: used_anon + used_hashed + cached + free = total.
 */
#ifndef SIM_SERVER_KV_H
#define SIM_SERVER_KV_H

#include "../core/core.h"

struct kv_block {
	uint64_t hash;
	int32_t ref;
	struct kv_block *lprev, *lnext; /* LRU, while ref == 0 */
};

struct kv_cache {
	int64_t total, used_anon, used_hashed, cached;
	struct kv_block **tab; /* open addressing, linear probing, by hash */
	size_t cap, n;
	struct kv_block *lru_head, *lru_tail; /* evict from the head */
	struct sim_pool pool;
};

void kv_init(struct kv_cache *c, int64_t total);
void kv_release(struct kv_cache *c);
static inline int64_t kv_free(const struct kv_cache *c)
{
	return c->total - c->used_anon - c->used_hashed - c->cached;
}
/* Blocks an allocation could get now (free + evictable). */
static inline int64_t kv_available(const struct kv_cache *c)
{
	return kv_free(c) + c->cached;
}
/* Takes k anonymous blocks, evicting cached ones as needed; false (and no
 * change) when fewer than k are available. */
bool kv_alloc(struct kv_cache *c, int64_t k);
void kv_free_anon(struct kv_cache *c, int64_t k);
struct kv_block *kv_lookup(const struct kv_cache *c, uint64_t hash);
void kv_ref(struct kv_cache *c, struct kv_block *b);
void kv_unref(struct kv_cache *c, struct kv_block *b);
/* Turns one anonymous block into a hashed one with ref 1; NULL (the block
 * stays anonymous) when the hash is already cached. */
struct kv_block *kv_promote(struct kv_cache *c, uint64_t hash);
bool kv_check(const struct kv_cache *c);

#endif
