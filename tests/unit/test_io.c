/* io: the memory backend behind the io_ops interface. */
#include <string.h>

#include "pktgen.h"
#include "unit.h"
#include "io/io_mem.h"

static void test_recv_send(void)
{
	static uint8_t pk[3][1500];
	static const uint32_t lens[3] = { 60, 1, 1500 };
	struct io_backend *be = io_mem_open("mem0");
	struct io_batch *b = io_batch_create();
	struct pg_rng r;
	const uint8_t *out;
	uint32_t len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(be);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_STRING_EQUAL(be->kind, "mem");
	CU_ASSERT_STRING_EQUAL(be->name, "mem0");
	pg_seed(&r, 5);
	for (int i = 0; i < 3; i++) {
		pg_fill(&r, pk[i], lens[i]);
		CU_ASSERT_EQUAL(io_mem_inject(be, pk[i], lens[i]), 0);
	}
	io_batch_reset(b);
	CU_ASSERT_EQUAL_FATAL(io_recv(be, b), 3);
	CU_ASSERT_EQUAL_FATAL(b->n, 3);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(b->pkt[i].len, lens[i]);
		CU_ASSERT_EQUAL(memcmp(b->pkt[i].data, pk[i], lens[i]), 0);
	}
	CU_ASSERT_EQUAL(be->stats.rx_packets, 3);
	CU_ASSERT_EQUAL(be->stats.rx_bytes, 60 + 1 + 1500);

	b->pkt[1].len = 0;		/* dropped: not sent */
	b->pkt[2].data[0] ^= 0xff;	/* "rewritten" */
	CU_ASSERT_EQUAL(io_send(be, b), 2);
	CU_ASSERT_EQUAL_FATAL(io_mem_sent_count(be), 2);
	out = io_mem_sent(be, 0, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_EQUAL(len, 60);
	CU_ASSERT_EQUAL(memcmp(out, pk[0], 60), 0);
	out = io_mem_sent(be, 1, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_EQUAL(len, 1500);
	CU_ASSERT_EQUAL(out[0], pk[2][0] ^ 0xff);
	CU_ASSERT_EQUAL(memcmp(out + 1, pk[2] + 1, 1499), 0);
	CU_ASSERT_PTR_NULL(io_mem_sent(be, 2, &len));
	CU_ASSERT_EQUAL(be->stats.tx_packets, 2);
	CU_ASSERT_EQUAL(be->stats.tx_bytes, 60 + 1500);

	io_batch_reset(b);
	CU_ASSERT_EQUAL(io_recv(be, b), 0);	/* nothing queued */
	io_mem_clear_sent(be);
	CU_ASSERT_EQUAL(io_mem_sent_count(be), 0);
	io_batch_destroy(b);
	io_close(be);
}

/* More than a batch: in order, IO_BATCH at a time. */
static void test_batches(void)
{
	struct io_backend *be = io_mem_open("mem1");
	struct io_batch *b = io_batch_create();
	unsigned total = IO_BATCH + 36, got = 0, bad = 0;
	uint8_t pkt[64];

	CU_ASSERT_PTR_NOT_NULL_FATAL(be);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	for (unsigned i = 0; i < total; i++) {
		memset(pkt, (int)i, sizeof(pkt));
		CU_ASSERT_EQUAL(io_mem_inject(be, pkt, 20 + i % 40), 0);
	}
	io_batch_reset(b);
	CU_ASSERT_EQUAL(io_recv(be, b), IO_BATCH);
	for (unsigned i = 0; i < b->n; i++, got++)
		if (b->pkt[i].len != 20 + got % 40 || b->pkt[i].data[0] != (uint8_t)got)
			bad++;
	CU_ASSERT_EQUAL(io_send(be, b), IO_BATCH);
	io_batch_reset(b);
	CU_ASSERT_EQUAL(io_recv(be, b), 36);
	for (unsigned i = 0; i < b->n; i++, got++)
		if (b->pkt[i].len != 20 + got % 40 || b->pkt[i].data[19] != (uint8_t)got)
			bad++;
	CU_ASSERT_EQUAL(io_send(be, b), 36);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL_FATAL(io_mem_sent_count(be), total);
	for (unsigned i = 0; i < total; i++) {
		uint32_t len;
		const uint8_t *out = io_mem_sent(be, i, &len);

		if (!out || len != 20 + i % 40 || out[len - 1] != (uint8_t)i)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	io_batch_destroy(b);
	io_close(be);
}

static void test_batch_reset(void)
{
	struct io_batch *b = io_batch_create();

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	b->n = 5;
	b->pkt[3].len = 0;
	io_batch_reset(b);
	CU_ASSERT_EQUAL(b->n, 0);
	for (unsigned i = 0; i < IO_BATCH; i++) {
		CU_ASSERT_EQUAL(b->pkt[i].len, IO_BUF_SIZE);
		CU_ASSERT_PTR_NOT_NULL(b->pkt[i].data);
		if (i)
			CU_ASSERT_PTR_NOT_EQUAL(b->pkt[i].data, b->pkt[i - 1].data);
	}
	io_batch_destroy(b);
}

void suite_io(void)
{
	CU_pSuite s = CU_add_suite("io", NULL, NULL);

	UNIT_ADD(s, test_recv_send);
	UNIT_ADD(s, test_batches);
	UNIT_ADD(s, test_batch_reset);
}
