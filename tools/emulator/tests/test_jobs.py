import collections
import unittest

import support  # noqa: F401  (import path)
from iothub_emulator import jobs
from iothub_emulator.seed import seeded_jobs


class PagingTest(unittest.TestCase):
    def setUp(self):
        self.store = jobs.JobStore(seeded_jobs())

    def walk(self, filters, size):
        pages, token = [], None
        while True:
            items, token = jobs.page(self.store, filters, size, token)
            pages.append(items)
            if token is None:
                return pages

    def test_every_page_size_returns_every_job_once_in_order(self):
        everything = self.store.query({})[0]
        for size in (1, 7, 13, 100, 1000):
            with self.subTest(size=size):
                pages = self.walk({}, size)
                self.assertEqual([job for page in pages for job in page], everything)
                self.assertTrue(all(len(page) == size for page in pages[:-1]))
                if size > 1:  # the seed makes every last page a short one
                    self.assertLess(len(pages[-1]), size)

    def test_filters_are_exact_matches(self):
        pages = self.walk({"type": "scheduleUpdateTwin", "status": "failed"}, 3)
        found = [job for page in pages for job in page]
        self.assertTrue(found)
        self.assertTrue(all(j["type"] == "scheduleUpdateTwin" and j["status"] == "failed"
                            for j in found))

    def test_an_empty_result_is_one_page_without_token(self):
        self.assertEqual(jobs.page(self.store, {"status": "nope"}, 5), ([], None))

    def test_order_is_by_created_time_then_id(self):
        ids = [job["jobId"] for job in self.store.query({})[0]]
        self.assertEqual(ids[0], "fixture-method-1")  # createdTime 0001-01-01
        self.assertLess(ids.index("fixture-twin-1"), ids.index("fixture-method-falsy"))

    def test_tokens_only_continue_their_own_query(self):
        _, token = jobs.page(self.store, {"type": "scheduleUpdateTwin"}, 2)
        for bad in (token, "not base64!", "e30="):
            with self.subTest(token=bad), self.assertRaises(ValueError):
                jobs.page(self.store, {}, 2, bad)

    def test_page_size(self):
        self.assertEqual(jobs.parse_page_size(None), 100)
        self.assertEqual(jobs.parse_page_size("0"), 1)
        self.assertEqual(jobs.parse_page_size("5000"), 1000)
        with self.assertRaises(ValueError):
            jobs.parse_page_size("ten")


class SeedTest(unittest.TestCase):
    def test_is_deterministic(self):
        self.assertEqual(seeded_jobs(), seeded_jobs())

    def test_ids_are_unique(self):
        ids = [job["jobId"] for job in seeded_jobs()]
        self.assertEqual(len(ids), len(set(ids)))

    def test_no_filter_total_is_a_multiple_of_a_common_page_size(self):
        all_jobs = seeded_jobs()
        totals = {"all": len(all_jobs)}
        for job in all_jobs:
            for key in (job["type"], job["status"], (job["type"], job["status"])):
                totals[key] = totals.get(key, 0) + 1
        for key, total in totals.items():
            with self.subTest(key=key, total=total):
                self.assertTrue(all(total % size for size in (7, 13, 100)))

    def test_every_status_and_type_is_present(self):
        counts = collections.Counter(job["status"] for job in seeded_jobs())
        self.assertEqual(set(counts), {"queued", "scheduled", "enqueued", "running",
                                       "completed", "failed", "cancelled", "unknown"})
        types = {job["type"] for job in seeded_jobs()}
        self.assertEqual(types, {"scheduleDeviceMethod", "scheduleUpdateTwin",
                                 "export", "import"})

    def test_statistics_add_up(self):
        for job in seeded_jobs():
            stats = job.get("deviceJobStatistics")
            if stats:
                with self.subTest(job=job["jobId"]):
                    self.assertEqual(stats["deviceCount"],
                                     sum(stats[k] for k in ("failedCount", "succeededCount",
                                                            "runningCount", "pendingCount")))


if __name__ == "__main__":
    unittest.main()
