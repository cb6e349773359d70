// A fixed set of worker threads with a bounded queue for the CPU-heavy part of image
// requests (decoding pixels and barcodes), so that large images cannot take every core or
// every HTTP thread: at most `threads` decodes run at once, at most `max_queued` wait, and
// a request waits at most its time limit before it is answered 503 image.busy. The HTTP
// threads stay free for everything else. See docs/api.md ("Images").
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "pedigree/base/error.h"

namespace pedigree::services {

class DecodePool {
 public:
  // `threads` 0 = one per hardware thread.
  DecodePool(size_t threads, size_t max_queued);
  // Lets the running tasks finish, drops the queued ones (their callers get image.busy),
  // and joins the workers.
  ~DecodePool();
  DecodePool(const DecodePool&) = delete;
  DecodePool& operator=(const DecodePool&) = delete;

  size_t threads() const { return workers_.size(); }
  // Tasks waiting for a worker now.
  size_t queued();

  // Runs `task` on a worker and waits at most `time_limit` for its result. Errors:
  // image.busy when max_queued tasks already wait, or when the task has not finished in
  // time (a task not yet started is then dropped and frees its queue place; a started one runs to
  // its end on its worker and its result is discarded); image.decoder when the task throws.
  template <typename T>
  [[nodiscard]] Result<T> Run(std::function<Result<T>()> task,
                              std::chrono::milliseconds time_limit) {
    auto result = std::make_shared<std::optional<Result<T>>>();
    auto job = std::make_shared<Job>();
    job->work = [task = std::move(task), result] {
      try {
        *result = task();
      } catch (const std::exception& e) {
        *result =
            std::unexpected(Error("image.decoder", std::string("decoder threw: ") + e.what()));
      }
    };
    if (auto ok = Enqueue(job); !ok) return std::unexpected(ok.error());
    if (auto ok = Wait(*job, time_limit); !ok) return std::unexpected(ok.error());
    return std::move(**result);
  }

 private:
  struct Job {
    std::function<void()> work;
    std::mutex mutex;
    std::condition_variable finished;
    bool done = false;
    bool abandoned = false;  // The caller stopped waiting: skip it if not started.
  };

  [[nodiscard]] Status Enqueue(std::shared_ptr<Job> job);
  [[nodiscard]] Status Wait(Job& job, std::chrono::milliseconds time_limit);
  void Work();

  size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace pedigree::services
