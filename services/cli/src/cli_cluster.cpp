#include "cli_cluster.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <set>
#include <sstream>

#include "pedigree/log/postgres_storage.h"

namespace pedigree::services {
namespace {

// Marks a write a follower handed on: the receiver never hands it on again (a node that
// lost the lease since answers cluster.no_leader and the caller retries).
constexpr const char* kForwardedHeader = "pedigree-forwarded-by";

// Headers of one hop that are not the caller's to pass on.
const std::set<std::string>& HopHeaders() {
  static const std::set<std::string> hop = {"connection", "keep-alive",        "content-length",
                                            "host",       "transfer-encoding", "te",
                                            "upgrade",    "proxy-connection",  "expect"};
  return hop;
}

// 503 with its own code (the chassis shows other 5xx only as "unavailable"): a client
// tells a leader change, which a retry after a second gets through, from an outage. The
// details (node URLs) stay in the access log.
HttpResponse NoLeader(const std::string& why) {
  HttpResponse r;
  r.status = 503;
  r.body =
      "{\"error\":{\"code\":\"cluster.no_leader\",\"message\":\"no node is the sequencer "
      "now (a leader change is under way); retry after Retry-After seconds\"}}";
  r.headers["Retry-After"] = "1";
  r.internal_cause = "cluster.no_leader: " + why;
  return r;
}

log::PostgresStorage* LeaseOf(ClusterGeneration& gen) {
  return dynamic_cast<log::PostgresStorage*>(&gen.node->ledger().storage());
}

}  // namespace

Result<std::unique_ptr<ClusterNode>> ClusterNode::Start(ClusterOptions options) {
  std::unique_ptr<ClusterNode> node(new ClusterNode(std::move(options)));
  PEDIGREE_ASSIGN(watch, log::pg::Connection::Open(node->options_.conninfo));
  node->watch_ = std::make_unique<log::pg::Connection>(std::move(*watch));
  auto gen = node->Open(true);
  if (!gen && gen.error().code() == "ledger.locked") gen = node->Open(false);
  if (!gen) return std::unexpected(gen.error());
  node->current_ = std::move(*gen);
  return node;
}

ClusterNode::~ClusterNode() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (monitor_.joinable()) monitor_.join();
}

Result<std::shared_ptr<ClusterGeneration>> ClusterNode::Open(bool leader) {
  auto gen = std::make_shared<ClusterGeneration>();
  PEDIGREE_ASSIGN(node, leader ? options_.open_leader() : options_.open_follower());
  gen->node = std::move(*node);
  gen->leader = leader;
  if (leader) {
    log::PostgresStorage* pg = LeaseOf(*gen);
    if (pg == nullptr) return Fail("server.config", "a cluster node needs PostgreSQL storage");
    gen->epoch = pg->lease_epoch();
  }
  PEDIGREE_TRY(options_.build(*gen));
  return gen;
}

std::shared_ptr<ClusterGeneration> ClusterNode::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

void ClusterNode::Say(const std::string& line) {
  if (options_.log) *options_.log << line << std::endl;
}

bool ClusterNode::Forwarded(const ClusterGeneration& gen, const HttpRequest& request) const {
  if (gen.leader) return false;
  if (request.method != "GET" && request.method != "HEAD") return true;
  return options_.forward_checkpoint && request.path == "/v1/log/checkpoint";
}

Result<Router> ClusterNode::Routes() {
  auto gen = Current();
  Router router;
  const std::vector<Route>& routes = gen->router.routes();
  for (size_t i = 0; i < routes.size(); ++i) {
    const Route& r = routes[i];
    Access access = r.access;
    if (r.access.check) {
      // The scope check of the generation current when the request arrives. A forwarded
      // write is checked by the leader, on the state it appends to.
      access.check = [this, i](const HttpRequest& request) -> Status {
        auto now = Current();
        if (!now || Forwarded(*now, request)) return Ok();
        if (!now->leader) PEDIGREE_TRY(now->node->ledger().Refresh());
        return now->router.routes()[i].access.check(request);
      };
    }
    PEDIGREE_TRY(router.Add(
        r.method, r.pattern, access,
        [this, i](const HttpRequest& request) { return Dispatch(i, request); }, r.body,
        r.max_body_bytes));
    if (r.expensive) PEDIGREE_TRY(router.MarkExpensive(r.method, r.pattern));
  }
  return router;
}

GrantedRolesFn ClusterNode::Grants() {
  return [this](const std::string& org) -> Result<std::set<std::string>> {
    auto gen = Current();
    if (!gen) return Fail("cluster.no_leader", "the node is changing role");
    return gen->grants(org);
  };
}

HttpResponse ClusterNode::Dispatch(size_t route, const HttpRequest& request) {
  auto gen = Current();
  if (!gen) return NoLeader("the node is changing role (a leader change is under way)");
  if (Forwarded(*gen, request)) {
    if (request.headers.count(kForwardedHeader)) {
      return NoLeader("this node is not the leader (the lease moved since " +
                      request.headers.at(kForwardedHeader) + " forwarded the request)");
    }
    return Forward(request);
  }
  if (!gen->leader) {
    // The leader appended since the last request: adopt the committed tree first.
    if (auto ok = gen->node->ledger().Refresh(); !ok) return ErrorResponse(ok.error());
  }
  const Route& r = gen->router.routes().at(route);
  if (r.method != request.method) {
    return ErrorResponse(Error("server.config", "route table mismatch between node roles"));
  }
  return r.handler(request);
}

HttpResponse ClusterNode::Forward(const HttpRequest& request) {
  std::string leader, self;
  {
    std::lock_guard lock(mu_);
    leader = leader_url_;
    self = advertise_url_;
  }
  if (leader.empty()) return NoLeader("no leader has advertised its URL yet");
  if (leader == self) {
    return NoLeader("this node is taking over as the leader");
  }
  try {
    Poco::URI uri(leader);
    Poco::URI target(uri);
    target.setPath(request.path);
    for (const auto& [k, v] : request.query) target.addQueryParameter(k, v);
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (uri.getScheme() == "https") {
      session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort());
    } else {
      session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    }
    const auto ms = options_.forward_timeout.count();
    session->setTimeout(
        Poco::Timespan(static_cast<long>(ms / 1000), static_cast<long>((ms % 1000) * 1000)));
    Poco::Net::HTTPRequest out(request.method, target.getPathEtc(),
                               Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [name, value] : request.headers) {
      if (!HopHeaders().count(name)) out.set(name, value);
    }
    out.set(kForwardedHeader, self);
    out.setContentLength(static_cast<std::streamsize>(request.body.size()));
    session->sendRequest(out) << request.body;
    Poco::Net::HTTPResponse in;
    std::istream& body = session->receiveResponse(in);
    HttpResponse r;
    r.status = static_cast<int>(in.getStatus());
    Poco::StreamCopier::copyToString(body, r.body);
    r.content_type = in.getContentType();
    for (const auto& [name, value] : in) {
      std::string lower = name;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!HopHeaders().count(lower) && lower != "content-type" && lower != "date" &&
          lower != "server") {
        r.headers[name] = value;
      }
    }
    return r;
  } catch (const Poco::Exception& e) {
    // The leader is gone (or not yet replaced): the write was not taken, or its outcome is
    // unknown; either way the caller retries with the same Idempotency-Key.
    return NoLeader("the leader at " + leader + " cannot be reached: " + e.displayText());
  } catch (const std::exception& e) {
    return NoLeader("the leader at " + leader + " cannot be reached: " + e.what());
  }
}

Status ClusterNode::Run(std::string advertise_url) {
  {
    std::lock_guard lock(mu_);
    advertise_url_ = std::move(advertise_url);
  }
  if (auto gen = Current(); gen && gen->leader) {
    PEDIGREE_TRY(LeaseOf(*gen)->AdvertiseLeader(advertise_url_));
    Say("cluster: leading (epoch " + std::to_string(gen->epoch) + ") at " + advertise_url_);
  } else {
    Say("cluster: following; writes go to the leader");
  }
  monitor_ = std::thread([this] { Monitor(); });
  return Ok();
}

void ClusterNode::Monitor() {
  std::string last_problem;
  auto problem = [&](const std::string& what) {
    if (what != last_problem) Say("cluster: " + what);
    last_problem = what;
  };
  while (true) {
    {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, options_.poll, [&] { return stopping_; });
      if (stopping_) return;
    }
    auto gen = Current();
    if (gen && gen->leader) {
      auto held = LeaseOf(*gen)->HoldsLease();
      if (held && *held) continue;
      Say("cluster: lost the sequencer lease (epoch " + std::to_string(gen->epoch) +
          (held ? "" : ": " + held.error().message()) + "); stepping down");
      {
        std::lock_guard lock(mu_);
        current_.reset();
      }
      gen.reset();  // the sequencer's queued writes fail; nothing more is appended here
      continue;     // as a follower from the next round
    }
    auto leader = log::ReadLeader(*watch_);
    if (!leader) {
      problem("cannot read the leader row: " + leader.error().message());
      continue;
    }
    {
      std::lock_guard lock(mu_);
      leader_url_ = leader->node_url;
    }
    if (!leader->held) {
      const auto started = std::chrono::steady_clock::now();
      auto led = Open(true);
      if (led) {
        if (auto ok = LeaseOf(**led)->AdvertiseLeader(advertise_url_); !ok) {
          problem("cannot advertise this node as the leader: " + ok.error().message());
        }
        const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - started);
        Say("cluster: took over as the leader (epoch " + std::to_string((*led)->epoch) +
            ", state reloaded in " + std::to_string(took.count()) + " ms)");
        std::lock_guard lock(mu_);
        current_ = std::move(*led);
        leader_url_ = advertise_url_;
        last_problem.clear();
        continue;
      }
      if (led.error().code() != "ledger.locked") {
        problem("cannot take over as the leader: " + led.error().message());
      }
    }
    if (!gen) {
      auto follow = Open(false);
      if (!follow) {
        problem("cannot open the ledger to follow: " + follow.error().message());
        continue;
      }
      std::lock_guard lock(mu_);
      current_ = std::move(*follow);
      last_problem.clear();
    }
  }
}

}  // namespace pedigree::services
