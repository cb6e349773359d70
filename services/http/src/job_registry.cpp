// The job registry shared by the asynchronous routes (job_registry.h).
#include "job_registry.h"

#include <array>
#include <cstdint>

#include "pedigree/base/bytes.h"

namespace pedigree::services {

JobRegistry::JobRegistry(size_t kept) : kept_(kept), worker_([this] { Run(); }) {}

JobRegistry::~JobRegistry() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

std::string JobRegistry::Start(const std::string& org,
                               const std::function<JsonValue(const std::string& id)>& initial,
                               Work work) {
  std::array<uint8_t, 16> id{};
  RandomBytes(id);
  auto job = std::make_shared<Job>();
  job->id = ToHex(id);
  job->org = org;
  job->status = initial(job->id);
  job->work = std::move(work);
  {
    std::lock_guard lock(mutex_);
    jobs_[job->id] = job;
    order_.push_back(job->id);
    while (order_.size() > kept_) {
      auto oldest = jobs_.find(order_.front());
      if (oldest != jobs_.end() && !oldest->second->finished) break;
      jobs_.erase(order_.front());
      order_.pop_front();
    }
    queue_.push_back(job);
  }
  wake_.notify_all();
  return job->id;
}

std::optional<JsonValue> JobRegistry::Status(const std::string& id, const std::string& org) const {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second->org != org) return std::nullopt;
  return it->second->status;
}

void JobRegistry::Run() {
  while (true) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = queue_.front();
      queue_.pop_front();
    }
    Job* running = job.get();
    job->work([this, running](const std::function<void(JsonValue&)>& change) {
      std::lock_guard lock(mutex_);
      change(running->status);
    });
    std::lock_guard lock(mutex_);
    job->finished = true;
    // What the work held (a document's events) is not kept with the status.
    job->work = nullptr;
  }
}

}  // namespace pedigree::services
