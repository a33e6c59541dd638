/* Checked allocation, arenas and fixed-size pools. */
#include "core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
	fprintf(stderr, "servesim: out of memory (asked for %zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		oom(nmemb * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *s;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	s = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

void xgrow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap;
	if (need <= c)
		return;
	if (c < 8)
		c = 8;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			oom(SIZE_MAX);
		c *= 2;
	}
	if (c > SIZE_MAX / size)
		oom(SIZE_MAX);
	*p = xrealloc(*p, c * size);
	*cap = c;
}

/* ---- arena ---- */

struct sim_arena_block {
	struct sim_arena_block *next;
	size_t size;
	_Alignas(16) unsigned char data[];
};

#define ARENA_BLOCK 65536u

void sim_arena_init(struct sim_arena *a)
{
	a->head = NULL;
	a->used = 0;
}

void sim_arena_release(struct sim_arena *a)
{
	struct sim_arena_block *b = a->head;
	while (b) {
		struct sim_arena_block *n = b->next;
		free(b);
		b = n;
	}
	a->head = NULL;
	a->used = 0;
}

void *sim_arena_alloc(struct sim_arena *a, size_t n)
{
	void *p;
	n = (n + 15u) & ~(size_t)15u;
	if (!a->head || a->used + n > a->head->size) {
		size_t sz = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		struct sim_arena_block *b = xmalloc(sizeof(*b) + sz);
		b->size = sz;
		b->next = a->head;
		a->head = b;
		a->used = 0;
	}
	p = a->head->data + a->used;
	a->used += n;
	memset(p, 0, n);
	return p;
}

char *sim_arena_strndup(struct sim_arena *a, const char *s, size_t n)
{
	char *d = sim_arena_alloc(a, n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *sim_arena_strdup(struct sim_arena *a, const char *s)
{
	return sim_arena_strndup(a, s, strlen(s));
}

/* ---- pool ---- */

void sim_pool_init(struct sim_pool *p, size_t obj_size, size_t per_chunk)
{
	memset(p, 0, sizeof(*p));
	if (obj_size < sizeof(void *))
		obj_size = sizeof(void *);
	p->obj_size = (obj_size + 15u) & ~(size_t)15u;
	p->per_chunk = per_chunk ? per_chunk : 256;
}

void sim_pool_release(struct sim_pool *p)
{
	for (size_t i = 0; i < p->nchunks; i++)
		free(p->chunks[i]);
	free(p->chunks);
	memset(p, 0, sizeof(*p));
}

void *sim_pool_get(struct sim_pool *p)
{
	void *o;
	if (!p->free_list) {
		unsigned char *c = xmalloc(p->obj_size * p->per_chunk);
		XGROW(p->chunks, p->chunk_cap, p->nchunks + 1);
		p->chunks[p->nchunks++] = c;
		/* Thread the chunk so the lowest address is handed out first. */
		for (size_t i = p->per_chunk; i-- > 0;) {
			void *obj = c + i * p->obj_size;
			*(void **)obj = p->free_list;
			p->free_list = obj;
		}
	}
	o = p->free_list;
	p->free_list = *(void **)o;
	memset(o, 0, p->obj_size);
	p->live++;
	return o;
}

void sim_pool_put(struct sim_pool *p, void *obj)
{
	SIM_ASSERT(p->live > 0);
	*(void **)obj = p->free_list;
	p->free_list = obj;
	p->live--;
}
