#include "server/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace mnemo::server {
namespace {

TEST(WorkerPoolTest, RunsTasks) {
  WorkerPool pool(3, 100);
  std::atomic<int> done{0};
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(pool.TrySubmit([&] { done.fetch_add(1); }));
  pool.Shutdown();
  EXPECT_EQ(done.load(), 50);
}

TEST(WorkerPoolTest, RefusesWhenTheQueueIsFull) {
  WorkerPool pool(1, 2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  ASSERT_TRUE(pool.TrySubmit([&] {
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();  // the worker is busy; now fill the queue
  std::atomic<int> done{0};
  EXPECT_TRUE(pool.TrySubmit([&] { done.fetch_add(1); }));
  EXPECT_TRUE(pool.TrySubmit([&] { done.fetch_add(1); }));
  EXPECT_FALSE(pool.TrySubmit([&] { done.fetch_add(1); }));
  EXPECT_EQ(pool.queued(), 2u);
  release.set_value();
  pool.Shutdown();  // queued tasks still run
  EXPECT_EQ(done.load(), 2);
  EXPECT_FALSE(pool.TrySubmit([] {}));
}

}  // namespace
}  // namespace mnemo::server
