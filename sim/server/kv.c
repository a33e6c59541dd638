/* Paged KV cache: counts, hashed blocks, LRU eviction (see kv.h). */
#include "kv.h"

#include <stdlib.h>
#include <string.h>

void kv_init(struct kv_cache *c, int64_t total)
{
	memset(c, 0, sizeof(*c));
	c->total = total;
	sim_pool_init(&c->pool, sizeof(struct kv_block), 1024);
}

void kv_release(struct kv_cache *c)
{
	free(c->tab);
	sim_pool_release(&c->pool);
	memset(c, 0, sizeof(*c));
}

static size_t slot_of(const struct kv_cache *c, uint64_t h)
{
	return (size_t)(h ^ (h >> 29)) & (c->cap - 1);
}

struct kv_block *kv_lookup(const struct kv_cache *c, uint64_t hash)
{
	if (!c->cap)
		return NULL;
	for (size_t i = slot_of(c, hash);; i = (i + 1) & (c->cap - 1)) {
		struct kv_block *b = c->tab[i];
		if (!b)
			return NULL;
		if (b->hash == hash)
			return b;
	}
}

static void tab_put(struct kv_cache *c, struct kv_block *b)
{
	size_t i;
	if ((c->n + 1) * 2 > c->cap) { /* keep the load under one half */
		struct kv_block **old = c->tab;
		size_t oc = c->cap;
		c->cap = oc ? oc * 2 : 64;
		c->tab = xcalloc(c->cap, sizeof(*c->tab));
		c->n = 0;
		for (size_t k = 0; k < oc; k++)
			if (old[k])
				tab_put(c, old[k]);
		free(old);
	}
	for (i = slot_of(c, b->hash); c->tab[i]; i = (i + 1) & (c->cap - 1))
		;
	c->tab[i] = b;
	c->n++;
}

static void tab_del(struct kv_cache *c, struct kv_block *b)
{
	size_t i = slot_of(c, b->hash), j;
	while (c->tab[i] != b)
		i = (i + 1) & (c->cap - 1);
	c->tab[i] = NULL;
	c->n--;
	/* backward-shift deletion keeps probe chains intact without tombstones */
	for (j = (i + 1) & (c->cap - 1); c->tab[j]; j = (j + 1) & (c->cap - 1)) {
		struct kv_block *x = c->tab[j];
		size_t home = slot_of(c, x->hash);
		bool move = (j > i) ? (home <= i || home > j) : (home <= i && home > j);
		if (move) {
			c->tab[i] = x;
			c->tab[j] = NULL;
			i = j;
		}
	}
}

static void lru_remove(struct kv_cache *c, struct kv_block *b)
{
	if (b->lprev)
		b->lprev->lnext = b->lnext;
	else
		c->lru_head = b->lnext;
	if (b->lnext)
		b->lnext->lprev = b->lprev;
	else
		c->lru_tail = b->lprev;
	b->lprev = b->lnext = NULL;
}

static void lru_append(struct kv_cache *c, struct kv_block *b)
{
	b->lnext = NULL;
	b->lprev = c->lru_tail;
	if (c->lru_tail)
		c->lru_tail->lnext = b;
	else
		c->lru_head = b;
	c->lru_tail = b;
}

bool kv_alloc(struct kv_cache *c, int64_t k)
{
	if (k <= 0)
		return true;
	if (kv_available(c) < k)
		return false;
	while (kv_free(c) < k) { /* evict least recently used cached blocks */
		struct kv_block *b = c->lru_head;
		lru_remove(c, b);
		tab_del(c, b);
		c->cached--;
		sim_pool_put(&c->pool, b);
	}
	c->used_anon += k;
	return true;
}

void kv_free_anon(struct kv_cache *c, int64_t k)
{
	SIM_ASSERT(k >= 0 && k <= c->used_anon);
	c->used_anon -= k;
}

void kv_ref(struct kv_cache *c, struct kv_block *b)
{
	if (b->ref == 0) {
		lru_remove(c, b);
		c->cached--;
		c->used_hashed++;
	}
	b->ref++;
}

void kv_unref(struct kv_cache *c, struct kv_block *b)
{
	SIM_ASSERT(b->ref > 0);
	if (--b->ref == 0) {
		c->used_hashed--;
		c->cached++;
		lru_append(c, b);
	}
}

struct kv_block *kv_promote(struct kv_cache *c, uint64_t hash)
{
	struct kv_block *b;
	SIM_ASSERT(c->used_anon > 0);
	if (kv_lookup(c, hash))
		return NULL;
	b = sim_pool_get(&c->pool);
	b->hash = hash;
	b->ref = 1;
	tab_put(c, b);
	c->used_anon--;
	c->used_hashed++;
	return b;
}

bool kv_check(const struct kv_cache *c)
{
	int64_t cached = 0;
	if (c->used_anon < 0 || c->used_hashed < 0 || c->cached < 0 || kv_free(c) < 0)
		return false;
	for (const struct kv_block *b = c->lru_head; b; b = b->lnext) {
		if (b->ref != 0)
			return false;
		cached++;
	}
	return cached == c->cached && (int64_t)c->n == c->used_hashed + c->cached;
}
