/* maglev: balance of the lookup table and how much moves when a backend
 * goes or comes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "lb/maglev.h"

#define N_BACKENDS 10

static char names[N_BACKENDS + 1][16];

static void backends(struct maglev_backend *b, unsigned n, const unsigned *weights)
{
	for (unsigned i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "server-%u", i);
		b[i] = (struct maglev_backend){ .name = names[i], .weight = weights ? weights[i] : 1,
						.id = (uint16_t)i };
	}
}

static void count(const struct maglev *m, unsigned *per, unsigned n)
{
	memset(per, 0, n * sizeof(*per));
	for (unsigned i = 0; i < maglev_size(m); i++) {
		uint16_t id = maglev_slot(m, i);

		CU_ASSERT_FATAL(id < n);
		per[id]++;
	}
}

/* Equal weights: every backend within one slot of every other. */
static void test_balance(void)
{
	struct maglev_backend b[N_BACKENDS];
	unsigned per[N_BACKENDS], lo = ~0u, hi = 0;
	struct maglev *m;

	backends(b, N_BACKENDS, NULL);
	m = maglev_create(MAGLEV_SIZE, b, N_BACKENDS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	count(m, per, N_BACKENDS);
	for (unsigned i = 0; i < N_BACKENDS; i++) {
		lo = per[i] < lo ? per[i] : lo;
		hi = per[i] > hi ? per[i] : hi;
	}
	CU_ASSERT(hi - lo <= 1);
	maglev_destroy(m);
}

/* Weights 1:2:3:4: shares within 1% of the weight ratio. */
static void test_weights(void)
{
	static const unsigned w[4] = { 1, 2, 3, 4 };
	struct maglev_backend b[4];
	unsigned per[4];
	struct maglev *m;

	backends(b, 4, w);
	m = maglev_create(MAGLEV_SIZE, b, 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	count(m, per, 4);
	for (unsigned i = 0; i < 4; i++) {
		double want = MAGLEV_SIZE * w[i] / 10.0;

		CU_ASSERT(per[i] > want * 0.99 && per[i] < want * 1.01);
	}
	maglev_destroy(m);
}

/* Removing one of ten backends: every slot it held moves (10%), and few
 * others do (Maglev's paper: a little more than the minimum). */
static void test_remove_moves_little(void)
{
	struct maglev_backend b[N_BACKENDS], fewer[N_BACKENDS];
	struct maglev *all, *nine;
	unsigned moved_other = 0, owned = 0;
	const unsigned gone = 3;

	backends(b, N_BACKENDS, NULL);
	/* The same backends without server-3; ids stay the same. */
	for (unsigned i = 0, k = 0; i < N_BACKENDS; i++)
		if (i != gone)
			fewer[k++] = b[i];
	all = maglev_create(MAGLEV_SIZE, b, N_BACKENDS);
	nine = maglev_create(MAGLEV_SIZE, fewer, N_BACKENDS - 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(all);
	CU_ASSERT_PTR_NOT_NULL_FATAL(nine);
	for (unsigned i = 0; i < MAGLEV_SIZE; i++) {
		uint16_t before = maglev_slot(all, i), after = maglev_slot(nine, i);

		CU_ASSERT(after != gone);
		if (before == gone)
			owned++;
		else if (before != after)
			moved_other++;
	}
	CU_ASSERT(owned > 0);
	/* Others' slots that moved: under 2% of the table. */
	CU_ASSERT(moved_other < MAGLEV_SIZE / 50);
	maglev_destroy(all);
	maglev_destroy(nine);
}

/* Adding an eleventh backend takes about 1/11 of the slots, mostly its own. */
static void test_add_moves_little(void)
{
	struct maglev_backend b[N_BACKENDS + 1];
	struct maglev *ten, *eleven;
	unsigned to_new = 0, between_old = 0;

	backends(b, N_BACKENDS, NULL);
	snprintf(names[N_BACKENDS], sizeof(names[N_BACKENDS]), "server-new");
	b[N_BACKENDS] = (struct maglev_backend){ .name = names[N_BACKENDS], .weight = 1, .id = N_BACKENDS };
	ten = maglev_create(MAGLEV_SIZE, b, N_BACKENDS);
	eleven = maglev_create(MAGLEV_SIZE, b, N_BACKENDS + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ten);
	CU_ASSERT_PTR_NOT_NULL_FATAL(eleven);
	for (unsigned i = 0; i < MAGLEV_SIZE; i++) {
		uint16_t before = maglev_slot(ten, i), after = maglev_slot(eleven, i);

		if (after == N_BACKENDS)
			to_new++;
		else if (before != after)
			between_old++;
	}
	CU_ASSERT(to_new >= MAGLEV_SIZE / 11 - 1 && to_new <= MAGLEV_SIZE / 11 + 1);
	CU_ASSERT(between_old < MAGLEV_SIZE / 50);
	maglev_destroy(ten);
	maglev_destroy(eleven);
}

static void test_empty_and_order(void)
{
	struct maglev_backend b[3], rev[3];
	struct maglev *m = maglev_create(MAGLEV_SIZE, NULL, 0), *x, *y;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(maglev_lookup(m, 12345), MAGLEV_NONE);
	maglev_destroy(m);
	/* The table follows names, not config order. */
	backends(b, 3, NULL);
	for (unsigned i = 0; i < 3; i++)
		rev[i] = b[2 - i];
	x = maglev_create(MAGLEV_SIZE, b, 3);
	y = maglev_create(MAGLEV_SIZE, rev, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_PTR_NOT_NULL_FATAL(y);
	for (unsigned i = 0; i < MAGLEV_SIZE; i++)
		if (maglev_slot(x, i) != maglev_slot(y, i)) {
			CU_FAIL("table depends on backend order");
			break;
		}
	maglev_destroy(x);
	maglev_destroy(y);
}

void suite_maglev(void)
{
	CU_pSuite s = CU_add_suite("maglev", NULL, NULL);

	UNIT_ADD(s, test_balance);
	UNIT_ADD(s, test_weights);
	UNIT_ADD(s, test_remove_moves_little);
	UNIT_ADD(s, test_add_moves_little);
	UNIT_ADD(s, test_empty_and_order);
}
