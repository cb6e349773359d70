// Asynchronous jobs whose status a client polls (202 + Location, then GET …/{id}): the EPCIS
// capture jobs (docs/epcis.md, "Capture") and the audit jobs (docs/api.md, "Reports").
// Private to services/http.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "pedigree/base/canonical_json.h"

namespace pedigree::services {

// One worker thread runs the jobs in the order they were started. Each job has a status, a
// JSON object its work changes as it goes, which only the organisation that started the job
// may read (another organisation's job is none of its business: Status answers nothing, as for
// an unknown id). Jobs live in memory: a restart forgets their status, never what they wrote.
// The most recent `kept` jobs are kept; a job not yet finished is never dropped. Thread-safe;
// the destructor finishes the queued jobs first.
class JobRegistry {
 public:
  // Applies `change` to the job's status under the registry's lock: the only way a job's
  // work touches its status, so that Status never sees it half-changed.
  using Update = std::function<void(const std::function<void(JsonValue&)>& change)>;
  using Work = std::function<void(const Update& update)>;

  explicit JobRegistry(size_t kept = 1000);
  ~JobRegistry();
  JobRegistry(const JobRegistry&) = delete;
  JobRegistry& operator=(const JobRegistry&) = delete;

  // Queues `work` for `org` and returns the job's id (32 random hex digits); `initial` makes
  // the status the job has until its work changes it, given the id.
  std::string Start(const std::string& org,
                    const std::function<JsonValue(const std::string& id)>& initial, Work work);

  // The job's status for `org`; nothing when `org` started no job with that id.
  std::optional<JsonValue> Status(const std::string& id, const std::string& org) const;

 private:
  struct Job {
    std::string id, org;
    JsonValue status;  // guarded by mutex_
    bool finished = false;
    Work work;
  };

  void Run();

  const size_t kept_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::deque<std::string> order_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::thread worker_;  // last: started once the members above exist
};

}  // namespace pedigree::services
