#include "pedigree/http/decode_pool.h"

#include <algorithm>

namespace pedigree::services {

DecodePool::DecodePool(size_t threads, size_t max_queued) : max_queued_(max_queued) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
}

DecodePool::~DecodePool() {
  std::deque<std::shared_ptr<Job>> dropped;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    dropped.swap(queue_);
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
  // Callers still waiting on a dropped job time out as image.busy; nothing runs it.
}

Status DecodePool::Enqueue(std::shared_ptr<Job> job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= max_queued_) {
      return Fail("image.busy", std::to_string(workers_.size()) + " image decoders busy and " +
                                    std::to_string(queue_.size()) + " images waiting (limit " +
                                    std::to_string(max_queued_) + ")");
    }
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
  return Ok();
}

Status DecodePool::Wait(Job& job, std::chrono::milliseconds time_limit) {
  std::unique_lock lock(job.mutex);
  if (job.finished.wait_for(lock, time_limit, [&] { return job.done; })) return Ok();
  job.abandoned = true;
  lock.unlock();
  {
    // A job that has not started gives its queue place back at once.
    std::lock_guard queue_lock(mutex_);
    std::erase_if(queue_, [&](const std::shared_ptr<Job>& queued) { return queued.get() == &job; });
  }
  return Fail("image.busy", "the image was not decoded within the time limit of " +
                                std::to_string(time_limit.count()) + " ms");
}

size_t DecodePool::queued() {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void DecodePool::Work() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    {
      std::lock_guard lock(job->mutex);
      if (job->abandoned) continue;
    }
    job->work();
    {
      std::lock_guard lock(job->mutex);
      job->done = true;
    }
    job->finished.notify_all();
  }
}

}  // namespace pedigree::services
