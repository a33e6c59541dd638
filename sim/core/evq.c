/*
 * Event queue: a binary min-heap of (time, seq, slot) entries. Callbacks live
 * in a slot table so that a handle (slot, generation) can find its heap entry
 * in O(1) and cancel or reschedule it in O(log n); the generation makes stale
 * handles harmless. Ties in time are broken by seq, the insertion counter, so
 * equal-time events fire first-scheduled first (as libuv's timers do).
 */
#include "core.h"

#include <stdlib.h>
#include <string.h>

#define NO_IDX UINT32_MAX

static inline bool before(const struct sim_heapent *a, const struct sim_heapent *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static inline void place(struct sim_evq *q, size_t i, struct sim_heapent e)
{
	q->heap[i] = e;
	q->slots[e.slot].heap_idx = (uint32_t)i;
}

static void sift_up(struct sim_evq *q, size_t i)
{
	struct sim_heapent e = q->heap[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(&e, &q->heap[p]))
			break;
		place(q, i, q->heap[p]);
		i = p;
	}
	place(q, i, e);
}

static void sift_down(struct sim_evq *q, size_t i)
{
	struct sim_heapent e = q->heap[i];
	for (;;) {
		size_t l = 2 * i + 1, m;
		if (l >= q->n)
			break;
		m = l;
		if (l + 1 < q->n && before(&q->heap[l + 1], &q->heap[l]))
			m = l + 1;
		if (!before(&q->heap[m], &e))
			break;
		place(q, i, q->heap[m]);
		i = m;
	}
	place(q, i, e);
}

void sim_evq_init(struct sim_evq *q)
{
	memset(q, 0, sizeof(*q));
}

void sim_evq_release(struct sim_evq *q)
{
	free(q->heap);
	free(q->slots);
	free(q->free_slots);
	memset(q, 0, sizeof(*q));
}

static uint32_t slot_get(struct sim_evq *q)
{
	if (q->nfree)
		return q->free_slots[--q->nfree];
	SIM_ASSERT(q->nslots < NO_IDX);
	XGROW(q->slots, q->slot_cap, q->nslots + 1);
	q->slots[q->nslots].gen = 1;
	q->slots[q->nslots].heap_idx = NO_IDX;
	return (uint32_t)q->nslots++;
}

static void slot_put(struct sim_evq *q, uint32_t s)
{
	q->slots[s].heap_idx = NO_IDX;
	q->slots[s].gen++;
	q->slots[s].fn = NULL;
	q->slots[s].ctx = NULL;
	XGROW(q->free_slots, q->free_cap, q->nfree + 1);
	q->free_slots[q->nfree++] = s;
}

sim_handle sim_evq_push(struct sim_evq *q, sim_time t, sim_event_fn fn,
			void *ctx, uint64_t arg)
{
	uint32_t s = slot_get(q);
	struct sim_evslot *sl = &q->slots[s];
	sl->fn = fn;
	sl->ctx = ctx;
	sl->arg = arg;
	XGROW(q->heap, q->cap, q->n + 1);
	q->heap[q->n] = (struct sim_heapent){t, q->next_seq++, s};
	sl->heap_idx = (uint32_t)q->n;
	q->n++;
	sift_up(q, q->n - 1);
	return (sim_handle){s, q->slots[s].gen};
}

static void remove_at(struct sim_evq *q, size_t i)
{
	uint32_t s = q->heap[i].slot;
	q->n--;
	if (i != q->n) {
		place(q, i, q->heap[q->n]);
		if (i > 0 && before(&q->heap[i], &q->heap[(i - 1) / 2]))
			sift_up(q, i);
		else
			sift_down(q, i);
	}
	slot_put(q, s);
}

bool sim_evq_pop(struct sim_evq *q, sim_time *t, sim_event_fn *fn, void **ctx,
		 uint64_t *arg)
{
	struct sim_evslot *sl;
	if (q->n == 0)
		return false;
	sl = &q->slots[q->heap[0].slot];
	*t = q->heap[0].t;
	*fn = sl->fn;
	*ctx = sl->ctx;
	*arg = sl->arg;
	remove_at(q, 0);
	return true;
}

bool sim_evq_peek_time(const struct sim_evq *q, sim_time *t)
{
	if (q->n == 0)
		return false;
	*t = q->heap[0].t;
	return true;
}

bool sim_evq_pending(const struct sim_evq *q, sim_handle h)
{
	return h.slot < q->nslots && q->slots[h.slot].gen == h.gen &&
	       q->slots[h.slot].heap_idx != NO_IDX;
}

bool sim_evq_cancel(struct sim_evq *q, sim_handle h)
{
	if (!sim_evq_pending(q, h))
		return false;
	remove_at(q, q->slots[h.slot].heap_idx);
	return true;
}

bool sim_evq_reschedule(struct sim_evq *q, sim_handle h, sim_time t)
{
	size_t i;
	if (!sim_evq_pending(q, h))
		return false;
	i = q->slots[h.slot].heap_idx;
	q->heap[i].t = t;
	q->heap[i].seq = q->next_seq++; /* as if scheduled now */
	if (i > 0 && before(&q->heap[i], &q->heap[(i - 1) / 2]))
		sift_up(q, i);
	else
		sift_down(q, i);
	return true;
}

bool sim_evq_check(const struct sim_evq *q)
{
	size_t live = 0;
	for (size_t i = 0; i < q->n; i++) {
		const struct sim_heapent *e = &q->heap[i];
		if (e->slot >= q->nslots || q->slots[e->slot].heap_idx != i)
			return false;
		if (i > 0 && before(e, &q->heap[(i - 1) / 2]))
			return false;
	}
	for (size_t s = 0; s < q->nslots; s++)
		if (q->slots[s].heap_idx != NO_IDX)
			live++;
	return live == q->n && live + q->nfree == q->nslots;
}
