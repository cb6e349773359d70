// Several `pedigree serve` processes on one PostgreSQL database, exactly one of them the
// sequencer (docs/deployment.md, "Several nodes on one database").
//
// The leader is the node whose writable ledger open took the database's sequencer lease
// (log::PostgresOptions::sequencer_lease: a session advisory lock on its storage
// connection, a new epoch in the leader row, fencing by trigger). Every other node is a
// follower: it authenticates requests, answers reads from the database itself (its
// read-only ledger adopts the committed tree before each request) and forwards writes (any
// method but GET and HEAD) to the leader's advertised URL, keeping the caller's
// Authorization, headers and body and answering with the leader's status and body. A
// monitor thread polls every `poll`: a follower takes the lease as soon as nobody holds it
// (the leader's session ended: kill -9, crash, lost connection), reopening everything from
// the database; a leader that no longer holds the lease steps down.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

#include "pedigree/http/http_server.h"
#include "pedigree/http/witness_client.h"
#include "pedigree/log/pg.h"
#include "pedigree/usecases/supply_node.h"
#include "pedigree/usecases/token_grants.h"

namespace pedigree::services {

// What the routes of one role run on. Destroyed in reverse order: the routes (which refer
// to the node) first, the node (which drains its sequencer) last.
struct ClusterGeneration {
  std::unique_ptr<SupplyNode> node;
  std::unique_ptr<WitnessClient> witness_client;
  Router router;
  GrantedRolesFn grants;
  bool leader = false;
  uint64_t epoch = 0;  // the lease epoch of a leader
};

struct ClusterOptions {
  std::string conninfo;  // the database (the directory's recorded storage)
  std::chrono::milliseconds poll{500};
  std::ostream* log = nullptr;  // role changes, one line each; may be null
  // Opens the node for writing (SupplyNode::Open: takes the lease, reloads every state
  // from the database) and for reading beside the leader (SupplyNode::OpenReadOnly).
  std::function<Result<std::unique_ptr<SupplyNode>>()> open_leader;
  std::function<Result<std::unique_ptr<SupplyNode>>()> open_follower;
  // Adds the routes, grants and (for a leader) witness client to a generation whose node
  // and role are set. Must add the same routes, in the same order, for either role.
  std::function<Status(ClusterGeneration&)> build;
  // Also forward GET /v1/log/checkpoint (a witness policy: only the leader asks witnesses).
  bool forward_checkpoint = false;
  // Timeout of a forwarded request.
  std::chrono::milliseconds forward_timeout{30'000};
};

class ClusterNode {
 public:
  // Takes the role it can now: the leader when nobody holds the lease, else a follower.
  // Errors: those of opening the node (ledger.locked only from open_follower), storage.*.
  [[nodiscard]] static Result<std::unique_ptr<ClusterNode>> Start(ClusterOptions options);
  ~ClusterNode();  // stops the monitor
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  // The server's routes: the generation's, each delegating to whichever generation is
  // current when a request arrives (503 cluster.no_leader with Retry-After while none is).
  [[nodiscard]] Result<Router> Routes();
  // The registry grants of the current generation.
  GrantedRolesFn Grants();
  // Records `advertise_url` as where this node takes writes (now, if it leads, and at
  // each takeover) and starts the monitor thread.
  [[nodiscard]] Status Run(std::string advertise_url);

  std::shared_ptr<ClusterGeneration> Current() const;

 private:
  explicit ClusterNode(ClusterOptions options) : options_(std::move(options)) {}
  [[nodiscard]] Result<std::shared_ptr<ClusterGeneration>> Open(bool leader);
  void Monitor();
  void Say(const std::string& line);
  HttpResponse Dispatch(size_t route, const HttpRequest& request);
  HttpResponse Forward(const HttpRequest& request);
  bool Forwarded(const ClusterGeneration& gen, const HttpRequest& request) const;

  ClusterOptions options_;
  mutable std::mutex mu_;
  std::string advertise_url_;                   // set by Run; guarded by mu_
  std::shared_ptr<ClusterGeneration> current_;  // guarded by mu_
  std::string leader_url_;                      // as last read; guarded by mu_
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread monitor_;
  std::unique_ptr<log::pg::Connection> watch_;  // the monitor's own session
};

}  // namespace pedigree::services
