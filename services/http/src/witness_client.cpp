#include "pedigree/http/witness_client.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <future>
#include <mutex>
#include <ostream>
#include <thread>

#include "pedigree/log/note.h"
#include "pedigree/log/witness.h"

namespace pedigree::services {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kWitnessedSizeKey = "witness/witnessed_size";
constexpr auto kPollInterval = std::chrono::milliseconds(200);
constexpr auto kFirstBackoff = std::chrono::seconds(1);
constexpr auto kMaxBackoff = std::chrono::seconds(60);

std::string SizeKey(const std::string& witness) { return "witness/" + witness + "/size"; }

std::optional<uint64_t> ParseDecimal(std::string_view text) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

Result<uint64_t> MetaSize(log::LogStorage& storage, const std::string& key) {
  auto v = storage.GetMeta(key);
  if (!v) {
    if (v.error().code() == "storage.not_found") return uint64_t{0};
    return std::unexpected(v.error());
  }
  auto n = ParseDecimal(*v);
  if (!n) return Fail(Error("storage.corrupt", "meta " + key + " is not a size: '" + *v + "'"));
  return *n;
}

struct Answer {
  int status = 0;  // 0: no answer (connection failed or timed out)
  std::string body;
  std::string content_type;
  std::string failure;  // why there is no answer
};

Answer Post(const std::string& url, const std::string& body, std::chrono::milliseconds timeout) {
  Answer a;
  try {
    Poco::URI uri(url + "/add-checkpoint");
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (uri.getScheme() == "https") {
      session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort());
    } else {
      session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    }
    session->setTimeout(Poco::Timespan(static_cast<long>(timeout.count() / 1000),
                                       static_cast<long>((timeout.count() % 1000) * 1000)));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathEtc(),
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    request.setContentType("text/plain");
    request.setContentLength(static_cast<std::streamsize>(body.size()));
    session->sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session->receiveResponse(response);
    std::string text;
    Poco::StreamCopier::copyToString(in, text, 64 * 1024);
    a.status = static_cast<int>(response.getStatus());
    a.body = std::move(text);
    a.content_type = response.getContentType();
  } catch (const Poco::Exception& e) {
    a.failure = e.displayText();
  } catch (const std::exception& e) {
    a.failure = e.what();
  }
  return a;
}

}  // namespace

struct WitnessClient::Impl {
  struct Witness {
    const log::PolicyWitness* policy = nullptr;
    uint64_t size = 0;
    Clock::time_point retry_after{};
    std::chrono::milliseconds backoff{0};
    std::string last_error;
  };

  log::Ledger& ledger;
  WitnessClientOptions options;
  std::vector<Witness> witnesses;
  uint64_t witnessed_size = 0;
  bool any_witnessed = false;
  mutable std::mutex mu;  // guards the fields above that rounds change
  std::mutex round_mu;    // one round at a time
  std::condition_variable wake;
  bool notified = false;
  bool stopping = false;
  std::thread thread;

  Impl(log::Ledger& l, WitnessClientOptions o) : ledger(l), options(std::move(o)) {}

  void Error(Witness& w, const std::string& status, const std::string& message) {
    if (options.metrics) {
      options.metrics
          ->AddCounter("pedigree_witness_errors_total",
                       "Witness add-checkpoint requests that failed, by witness and status",
                       "witness=\"" + w.policy->name + "\",status=\"" + status + "\"")
          .Add();
    }
    if (options.log) {
      *options.log << "witness " << w.policy->name << " (" << w.policy->url << "): " << status
                   << " " << message << std::endl;
    }
    std::lock_guard lock(mu);
    w.last_error = status + " " + message;
  }

  void BackOff(Witness& w) {
    std::lock_guard lock(mu);
    w.backoff = w.backoff.count() == 0
                    ? std::chrono::duration_cast<std::chrono::milliseconds>(kFirstBackoff)
                    : std::min(w.backoff * 2,
                               std::chrono::duration_cast<std::chrono::milliseconds>(kMaxBackoff));
    w.retry_after = Clock::now() + w.backoff;
  }

  // Sends `checkpoint` to `w`; on success returns the verified cosignature line(s).
  std::optional<std::string> Ask(Witness& w, const log::StoredCheckpoint& checkpoint) {
    uint64_t old;
    {
      std::lock_guard lock(mu);
      old = w.size;
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (old > checkpoint.size) {
        Error(w, "ahead",
              "the witness holds size " + std::to_string(old) + ", beyond our checkpoint of size " +
                  std::to_string(checkpoint.size));
        return std::nullopt;
      }
      std::vector<Hash> proof;
      if (old != 0 && old != checkpoint.size) {
        auto p = ledger.ProveConsistency(old, checkpoint.size);
        if (!p) {
          Error(w, "proof", p.error().ToString());
          return std::nullopt;
        }
        proof = std::move(*p);
      }
      Answer a = Post(w.policy->url, log::FormatAddCheckpoint(old, proof, checkpoint.note),
                      options.timeout);
      if (a.status == 200) {
        // Keep only lines by this witness's key that verify over this checkpoint.
        auto merged = log::AddSignatureLines(checkpoint.note, a.body);
        std::vector<log::NoteVerifier> key{w.policy->key};
        auto opened = merged ? log::OpenNote(*merged, key)
                             : Result<log::OpenedNote>(std::unexpected(merged.error()));
        if (!opened) {
          Error(w, "bad_cosignature", opened.error().ToString());
          return std::nullopt;
        }
        // A cosignature from too far in the future would make every verifier refuse the
        // published note (policy.h, EvaluateQuorum): keep it out and alert, the witness's
        // clock is wrong.
        const uint64_t now =
            static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
        for (const log::VerifiedSignature& v : opened->verified) {
          if (v.timestamp && *v.timestamp > now + log::kMaxCosignatureFutureSeconds) {
            Error(w, "future_cosignature",
                  "cosignature timestamped " + std::to_string(*v.timestamp) + ", " +
                      std::to_string(*v.timestamp - now) + " s ahead of our clock");
            BackOff(w);
            return std::nullopt;
          }
        }
        std::string mine;
        std::string_view rest = a.body;
        const std::string prefix = "\xE2\x80\x94 " + w.policy->key.name() + " ";
        while (!rest.empty()) {
          size_t nl = rest.find('\n');
          std::string_view line = rest.substr(0, nl == std::string_view::npos ? rest.size() : nl);
          if (line.starts_with(prefix)) mine += std::string(line) + "\n";
          rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        }
        std::lock_guard lock(mu);
        w.size = checkpoint.size;
        w.backoff = std::chrono::milliseconds(0);
        w.last_error.clear();
        return mine;
      }
      if (a.status == 409 && attempt == 0) {
        std::string body = a.body;
        while (!body.empty() && body.back() == '\n') body.pop_back();
        auto size = ParseDecimal(body);
        if (a.content_type.find("text/x.tlog.size") == 0 && size) {
          old = *size;
          std::lock_guard lock(mu);
          w.size = *size;
          continue;
        }
      }
      std::string status = a.status == 0 ? "unreachable" : std::to_string(a.status);
      Error(w, status, a.status == 0 ? a.failure : a.body.substr(0, 200));
      // 429, 5xx and no answer are what back-off is for; a refusal (403, 404, 422) is an
      // error to alert on, and is not repeated every poll either.
      BackOff(w);
      return std::nullopt;
    }
    return std::nullopt;
  }

  Result<bool> Round() {
    std::lock_guard round(round_mu);
    PEDIGREE_ASSIGN(checkpoint, ledger.SignCheckpoint());
    std::vector<std::future<std::optional<std::string>>> asks;
    std::vector<Witness*> asked;
    auto now = Clock::now();
    for (auto& w : witnesses) {
      if (w.policy->url.empty()) continue;
      {
        std::lock_guard lock(mu);
        if (w.size == checkpoint->size && w.last_error.empty()) continue;
        if (now < w.retry_after) continue;
      }
      asked.push_back(&w);
      asks.push_back(
          std::async(std::launch::async, [this, &w, cp = *checkpoint] { return Ask(w, cp); }));
    }
    std::string lines;
    for (size_t i = 0; i < asks.size(); ++i) {
      if (auto line = asks[i].get()) lines += *line;
      PEDIGREE_TRY(ledger.storage().SetMeta(SizeKey(asked[i]->policy->name),
                                            std::to_string(asked[i]->size)));
    }
    if (!lines.empty())
      PEDIGREE_TRY(log::MergeCosignatures(ledger.storage(), checkpoint->size, lines));
    PEDIGREE_ASSIGN(stored, ledger.storage().CheckpointAt(checkpoint->size));
    if (!*stored) return false;
    auto quorum = log::EvaluateQuorum(options.policy, (*stored)->note);
    bool met = quorum && quorum->met;
    if (met) {
      bool newer;
      {
        std::lock_guard lock(mu);
        newer = !any_witnessed || checkpoint->size > witnessed_size;
        if (newer) {
          witnessed_size = checkpoint->size;
          any_witnessed = true;
        }
      }
      if (newer) {
        PEDIGREE_TRY(ledger.storage().SetMeta(kWitnessedSizeKey, std::to_string(checkpoint->size)));
      }
    }
    return met;
  }

  void Run() {
    uint64_t last_size = UINT64_MAX;
    std::unique_lock lock(mu);
    while (!stopping) {
      wake.wait_for(lock, kPollInterval, [&] { return stopping || notified; });
      if (stopping) break;
      notified = false;
      uint64_t size = ledger.size();
      bool behind = false;
      auto now = Clock::now();
      for (const auto& w : witnesses) {
        behind |= !w.policy->url.empty() && (w.size != size || !w.last_error.empty()) &&
                  now >= w.retry_after;
      }
      if (size == last_size && !behind) continue;
      lock.unlock();
      auto ok = Round();
      if (!ok && options.log)
        *options.log << "witness round: " << ok.error().ToString() << std::endl;
      last_size = size;
      lock.lock();
    }
  }
};

WitnessClient::WitnessClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WitnessClient::~WitnessClient() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

Result<std::unique_ptr<WitnessClient>> WitnessClient::Start(log::Ledger& ledger,
                                                            WitnessClientOptions options) {
  auto impl = std::make_unique<Impl>(ledger, std::move(options));
  for (const auto& w : impl->options.policy.witnesses) {
    PEDIGREE_ASSIGN(size, MetaSize(ledger.storage(), SizeKey(w.name)));
    impl->witnesses.push_back(Impl::Witness{&w, *size, {}, {}, {}});
  }
  if (auto v = ledger.storage().GetMeta(kWitnessedSizeKey)) {
    PEDIGREE_ASSIGN(size, MetaSize(ledger.storage(), kWitnessedSizeKey));
    impl->witnessed_size = *size;
    impl->any_witnessed = true;
  }
  Impl* raw = impl.get();
  if (raw->options.metrics) {
    raw->options.metrics->AddGauge("pedigree_witness_witnessed_size",
                                   "Size of the newest checkpoint that met the witness quorum",
                                   [raw] {
                                     std::lock_guard lock(raw->mu);
                                     return static_cast<double>(raw->witnessed_size);
                                   });
    raw->options.metrics->AddGauge(
        "pedigree_checkpoint_witnessed",
        "1 when the newest checkpoint met the witness quorum, 0 when it did not (published "
        "anyway only with witness_fail_open)",
        [raw] {
          std::lock_guard lock(raw->mu);
          return raw->any_witnessed && raw->witnessed_size == raw->ledger.size() ? 1.0 : 0.0;
        });
  }
  std::unique_ptr<WitnessClient> client(new WitnessClient(std::move(impl)));
  if (raw->options.background) raw->thread = std::thread([raw] { raw->Run(); });
  return client;
}

void WitnessClient::Notify() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->notified = true;
  }
  impl_->wake.notify_all();
}

Result<bool> WitnessClient::RunRound() { return impl_->Round(); }

Result<std::optional<log::StoredCheckpoint>> WitnessClient::Witnessed() {
  uint64_t size;
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->any_witnessed) return std::optional<log::StoredCheckpoint>();
    size = impl_->witnessed_size;
  }
  return impl_->ledger.storage().CheckpointAt(size);
}

bool WitnessClient::fail_open() const { return impl_->options.fail_open; }

const log::Policy& WitnessClient::policy() const { return impl_->options.policy; }

std::vector<WitnessStatus> WitnessClient::Witnesses() const {
  std::lock_guard lock(impl_->mu);
  std::vector<WitnessStatus> out;
  for (const auto& w : impl_->witnesses) {
    out.push_back({w.policy->name, w.policy->url, w.size, w.last_error});
  }
  return out;
}

}  // namespace pedigree::services
