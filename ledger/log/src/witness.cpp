#include "pedigree/log/witness.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <system_error>

#include "pedigree/base/rate_limiter.h"
#include "pedigree/log/keys.h"
#include "pedigree/log/proof.h"
#include "pedigree/log/sql.h"

namespace pedigree::log {
namespace {

namespace fs = std::filesystem;

constexpr const char* kKeyFile = "witness-key.pem";
constexpr const char* kVkeyFile = "witness.vkey";
constexpr const char* kDbFile = "witness.db";

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS witness_state (
  origin TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  root BLOB NOT NULL,
  timestamp INTEGER NOT NULL,
  cosigned_note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS witness_evidence (
  id INTEGER PRIMARY KEY,
  origin TEXT NOT NULL,
  size INTEGER NOT NULL,
  root BLOB NOT NULL,
  timestamp INTEGER NOT NULL,
  note TEXT NOT NULL,
  cosignature TEXT NOT NULL
);
)sql";

Error Malformed(std::string message, uint64_t line) {
  return Error("witness.malformed", std::move(message)).at_line_column(line, 1);
}

// Decimal without leading zeros, fitting 64 bits.
std::optional<uint64_t> ParseSize(std::string_view text) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 40)) {
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  return out + (text.size() > 40 ? "..." : "");
}

uint64_t SystemClock() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

Result<AddCheckpointRequest> ParseAddCheckpoint(std::string_view body) {
  if (body.size() > kWitnessMaxBodyBytes) {
    return Fail(Error("witness.body_too_large",
                      "the body has " + std::to_string(body.size()) + " bytes, more than the " +
                          std::to_string(kWitnessMaxBodyBytes) + " allowed"));
  }
  AddCheckpointRequest out;
  uint64_t line = 1;
  size_t nl = body.find('\n');
  if (nl == std::string_view::npos) return Fail(Malformed("no \"old <size>\" line", line));
  std::string_view first = body.substr(0, nl);
  if (!first.starts_with("old ")) {
    return Fail(
        Malformed("the first line \"" + Printable(first) + "\" is not \"old <size>\"", line));
  }
  auto old = ParseSize(first.substr(4));
  if (!old) {
    return Fail(Malformed("the old size \"" + Printable(first.substr(4)) +
                              "\" is not a decimal number without leading zeros below 2^64",
                          line)
                    .at_field("old"));
  }
  out.old_size = *old;
  body.remove_prefix(nl + 1);
  while (true) {
    ++line;
    nl = body.find('\n');
    if (nl == std::string_view::npos) {
      return Fail(Malformed("no empty line between the proof and the checkpoint", line));
    }
    std::string_view text = body.substr(0, nl);
    body.remove_prefix(nl + 1);
    if (text.empty()) break;
    if (out.proof.size() == kWitnessMaxProofLines) {
      return Fail(Error("witness.too_many_proof_lines", "the consistency proof has more than " +
                                                            std::to_string(kWitnessMaxProofLines) +
                                                            " lines")
                      .at_line_column(line, 1));
    }
    auto hash = HashFromBase64(text);
    if (!hash) {
      return Fail(
          Malformed("proof line \"" + Printable(text) + "\" is not a base64 SHA-256 hash", line)
              .at_field("proof"));
    }
    out.proof.push_back(*hash);
  }
  out.note = std::string(body);
  return out;
}

std::string FormatAddCheckpoint(uint64_t old_size, std::span<const Hash> proof,
                                std::string_view note) {
  std::string out = "old " + std::to_string(old_size) + "\n";
  for (const Hash& h : proof) out += ToBase64(h) + "\n";
  out += "\n";
  out += note;
  return out;
}

Result<WitnessedLog> ParseWitnessedLog(std::string_view vkey, std::string_view origin,
                                       std::string_view rate) {
  auto verifier = NoteVerifier::Parse(vkey);
  if (!verifier) {
    return Fail(
        Error("witness.config", "log key \"" + Printable(vkey) +
                                    "\" is not a verifier key: " + verifier.error().message())
            .at_field("log"));
  }
  if (verifier->type() != NoteKeyType::kEd25519) {
    return Fail(Error("witness.config", "log key " + verifier->name() +
                                            " is not an Ed25519 (type 0x01) signed-note key")
                    .at_field("log"));
  }
  WitnessedLog log;
  log.origin = origin.empty() ? verifier->name() : std::string(origin);
  if (!IsValidNoteKeyName(log.origin)) {
    return Fail(
        Error("witness.config", "origin \"" + Printable(log.origin) +
                                    "\" is empty or holds a space, '+' or control character")
            .at_field("origin"));
  }
  log.keys.push_back(*std::move(verifier));
  if (!rate.empty()) {
    double r = 0;
    auto [end, ec] = std::from_chars(rate.data(), rate.data() + rate.size(), r);
    if (ec != std::errc() || end != rate.data() + rate.size() || !(r >= 0) || r > 1e9) {
      return Fail(Error("witness.config", "rate \"" + Printable(rate) +
                                              "\" is not a number of requests per second >= 0")
                      .at_field("rate"));
    }
    log.rate_per_second = r;
  }
  return log;
}

Result<std::vector<WitnessedLog>> ParseWitnessConfig(std::string_view text) {
  std::vector<WitnessedLog> logs;
  uint64_t line_no = 0;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    ++line_no;
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::vector<std::string> fields;
    for (std::string w; words >> w;) fields.push_back(w);
    if (fields.empty()) continue;
    if (fields[0] != "log" || fields.size() < 2 || fields.size() > 4) {
      return Fail(Error("witness.config", "line " + std::to_string(line_no) +
                                              " is not \"log <vkey> [origin] [rate]\"")
                      .at_line_column(line_no, 1));
    }
    auto log = ParseWitnessedLog(fields[1], fields.size() > 2 ? fields[2] : "",
                                 fields.size() > 3 ? fields[3] : "");
    if (!log) return Fail(log.error().at_line_column(line_no, 1));
    auto same = std::find_if(logs.begin(), logs.end(),
                             [&](const WitnessedLog& l) { return l.origin == log->origin; });
    if (same != logs.end()) {
      same->keys.push_back(log->keys.front());
    } else {
      logs.push_back(*std::move(log));
    }
  }
  return logs;
}

namespace {

// A request that passed every check needing no state: what the transaction works on.
struct Prepared {
  AddCheckpointRequest request;
  Checkpoint checkpoint;
  OpenedNote opened;
  size_t log_index = 0;
  std::string served;  // the checkpoint text and the log's verified signature lines
};

AddCheckpointOutcome Refused(Error e) { return {std::unexpected(std::move(e)), {}}; }

// One request waiting for the group commit (AddCheckpoint): its input, then its outcome.
struct Pending {
  Prepared* prepared = nullptr;
  AddCheckpointOutcome outcome{std::unexpected(Error("internal", "not processed")), {}};
  bool stores = false;  // it wrote state and evidence inside the batch's transaction
  bool done = false;
};

}  // namespace

struct Witness::Impl {
  Impl(NoteSigner s, std::function<uint64_t()> c) : signer(std::move(s)), clock(std::move(c)) {}

  NoteSigner signer;
  std::vector<WitnessedLog> logs;
  std::map<std::string, size_t, std::less<>> by_origin;
  std::map<std::string, std::string, std::less<>> origin_by_hash;
  std::function<uint64_t()> clock;
  std::mutex mu;  // guards db
  sql::Connection db{nullptr};
  std::vector<std::unique_ptr<RateLimiter>> limiters;  // one per log, null when unlimited
  // The group commit's queue (AddCheckpoint); queue_mu is never held while mu is taken.
  std::mutex queue_mu;
  std::condition_variable queue_cv;
  std::vector<Pending*> queue;
  bool committing = false;  // a batch is being applied and committed
};

Witness::Witness(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Witness::~Witness() = default;
const NoteSigner& Witness::signer() const { return impl_->signer; }
const std::vector<WitnessedLog>& Witness::logs() const { return impl_->logs; }

Result<std::string> Witness::Init(const std::string& dir, const std::string& name) {
  if (!IsValidNoteKeyName(name)) {
    return Fail(
        Error("witness.config", "witness name \"" + Printable(name) +
                                    "\" is empty or holds a space, '+' or control character")
            .at_field("name"));
  }
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    return Fail(Error("witness.exists", dir + " already exists; a witness never overwrites its key "
                                              "or state")
                    .at_field("dir"));
  }
  if (!fs::create_directories(dir, ec) || ec) {
    return Fail(Error("witness.io", "cannot create " + dir + ": " + ec.message()).at_field("dir"));
  }
  fs::permissions(dir, fs::perms::owner_all, ec);
  PrivateKey key = PrivateKey::Generate();
  PEDIGREE_TRY(key.SavePem((fs::path(dir) / kKeyFile).string()));
  NoteSigner signer(name, std::move(key), NoteKeyType::kCosignatureV1);
  const std::string vkey = signer.VerifierKey();
  {
    std::ofstream out(fs::path(dir) / kVkeyFile);
    out << vkey << "\n";
    if (!out.flush()) return Fail("witness.io", "cannot write " + dir + "/" + kVkeyFile);
  }
  sql::OpenOptions options;
  options.create = true;
  PEDIGREE_ASSIGN(db, sql::Connection::Open((fs::path(dir) / kDbFile).string(), options));
  PEDIGREE_TRY(db->Exec("PRAGMA journal_mode=WAL"));
  PEDIGREE_TRY(db->Exec(kSchema));
  return vkey;
}

Result<std::unique_ptr<Witness>> Witness::Open(const std::string& dir,
                                               std::vector<WitnessedLog> logs, Options options) {
  if (logs.empty()) return Fail(Error("witness.config", "no log to witness").at_field("log"));
  std::ifstream vin(fs::path(dir) / kVkeyFile);
  std::string vkey_text;
  if (!vin || !std::getline(vin, vkey_text)) {
    return Fail(Error("witness.io", "cannot read " + dir + "/" + kVkeyFile +
                                        " (not a witness directory? run `pedigree witness init`)")
                    .at_field("dir"));
  }
  PEDIGREE_ASSIGN(vkey, NoteVerifier::Parse(vkey_text));
  PEDIGREE_ASSIGN(key, PrivateKey::LoadPem((fs::path(dir) / kKeyFile).string()));
  if (vkey->type() != NoteKeyType::kCosignatureV1 || !(key->public_key() == vkey->public_key())) {
    return Fail(Error("witness.config",
                      dir + "/" + kVkeyFile + " is not the cosignature key of " + kKeyFile));
  }
  auto impl = std::make_unique<Impl>(
      NoteSigner(vkey->name(), *std::move(key), NoteKeyType::kCosignatureV1),
      options.clock ? options.clock : std::function<uint64_t()>(SystemClock));
  for (WitnessedLog& log : logs) {
    if (impl->by_origin.contains(log.origin)) {
      return Fail(Error("witness.config", "origin " + log.origin + " is configured twice")
                      .at_field("origin"));
    }
    impl->by_origin.emplace(log.origin, impl->logs.size());
    impl->origin_by_hash.emplace(ToHex(Sha256(log.origin)), log.origin);
    impl->limiters.push_back(
        log.rate_per_second > 0 ? std::make_unique<RateLimiter>(log.rate_per_second) : nullptr);
    impl->logs.push_back(std::move(log));
  }
  const std::string db_path = (fs::path(dir) / kDbFile).string();
  if (!fs::exists(db_path)) {
    return Fail(Error("witness.io", "no " + db_path + " (run `pedigree witness init`)"));
  }
  PEDIGREE_ASSIGN(db, sql::Connection::Open(db_path, {}));
  impl->db = *std::move(db);
  PEDIGREE_TRY(impl->db.Exec("PRAGMA journal_mode=WAL"));
  PEDIGREE_TRY(impl->db.Exec("PRAGMA synchronous=FULL"));
  PEDIGREE_TRY(impl->db.Exec(kSchema));
  return std::unique_ptr<Witness>(new Witness(std::move(impl)));
}

std::optional<std::string> Witness::OriginForHash(std::string_view hex) const {
  auto it = impl_->origin_by_hash.find(hex);
  if (it == impl_->origin_by_hash.end()) return std::nullopt;
  return it->second;
}

namespace {

// The checkpoint text followed by the signature lines of `note` whose (name, key ID) one of
// the verified signatures has: the log's own lines, without what anyone else added.
std::string VerifiedLines(std::string_view note, const OpenedNote& opened) {
  std::string out = opened.text + "\n";
  std::string_view sigs = note.substr(opened.text.size() + 1);
  while (!sigs.empty()) {
    size_t nl = sigs.find('\n');
    std::string_view line = sigs.substr(0, nl + 1);
    sigs.remove_prefix(nl + 1);
    // "— name base64\n"
    std::string_view rest = line.substr(std::string_view("\xE2\x80\x94 ").size());
    size_t space = rest.find(' ');
    if (space == std::string_view::npos) continue;
    std::string_view name = rest.substr(0, space);
    auto raw = FromBase64(rest.substr(space + 1, rest.size() - space - 2));
    if (!raw || raw->size() < 4) continue;
    uint32_t id = (uint32_t{(*raw)[0]} << 24) | (uint32_t{(*raw)[1]} << 16) |
                  (uint32_t{(*raw)[2]} << 8) | uint32_t{(*raw)[3]};
    for (const VerifiedSignature& v : opened.verified) {
      if (v.name == name && v.key_id == id) {
        out += line;
        break;
      }
    }
  }
  return out;
}

}  // namespace

namespace {

// The state row of `origin`; the caller holds the witness's lock.
Result<std::optional<WitnessState>> ReadState(sql::Connection& db, std::string_view origin) {
  PEDIGREE_ASSIGN(q,
                  db.Prepare("SELECT size, root, timestamp, cosigned_note FROM witness_state WHERE "
                             "origin = ?1"));
  q->Bind(1, origin);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) return std::optional<WitnessState>();
  WitnessState s;
  s.origin = std::string(origin);
  s.size = static_cast<uint64_t>(q->Int(0));
  auto root = q->Blob(1);
  if (root.size() != s.root.size()) {
    return Fail("storage.corrupt", "witness_state root for " + s.origin + " is not 32 bytes");
  }
  std::copy(root.begin(), root.end(), s.root.begin());
  s.timestamp = static_cast<uint64_t>(q->Int(2));
  s.cosigned_note = q->Text(3);
  return std::optional<WitnessState>(std::move(s));
}

}  // namespace

Result<std::optional<WitnessState>> Witness::Latest(std::string_view origin) {
  std::lock_guard lock(impl_->mu);
  return ReadState(impl_->db, origin);
}

namespace {

// The stateful checks and the write of one request, inside the batch's open transaction
// (the caller holds `mu`): what an earlier request of the batch stored is visible here, so
// a batch behaves exactly as its requests one after another.
AddCheckpointOutcome Apply(Witness::Impl& impl, Prepared& in, bool& stores) {
  stores = false;
  const WitnessedLog& log = impl.logs[in.log_index];
  const Checkpoint& checkpoint = in.checkpoint;
  const AddCheckpointRequest& request = in.request;
  if (const auto& limiter = impl.limiters[in.log_index]; limiter && limiter->Take(log.origin)) {
    return Refused(Error("witness.rate_limited", "more than " +
                                                     std::to_string(log.rate_per_second) +
                                                     " add-checkpoint requests per second for " +
                                                     log.origin + "; retry later"));
  }
  auto current = ReadState(impl.db, log.origin);  // no one else can change it now
  if (!current) return Refused(current.error());
  const uint64_t stored_size = *current ? (*current)->size : 0;
  if (request.old_size != stored_size) {
    return AddCheckpointOutcome{
        std::unexpected(
            Error("witness.conflict", "old size " + std::to_string(request.old_size) +
                                          " is not the size this witness last cosigned for " +
                                          log.origin + ", " + std::to_string(stored_size))
                .at_field("old")),
        stored_size};
  }
  const auto& proof = request.proof;
  if (!*current || request.old_size == 0) {
    // Nothing to link to (a new log, or the empty tree): the proof must be empty.
    if (!proof.empty()) {
      return Refused(Error("witness.inconsistent", "a proof from size 0 must be empty, it has " +
                                                       std::to_string(proof.size()) + " hashes")
                         .at_field("proof"));
    }
    if (*current && checkpoint.size == 0 && checkpoint.root != (*current)->root) {
      return Refused(Error("witness.inconsistent", "the empty tree of " + log.origin +
                                                       " with another root than the one " +
                                                       "this witness cosigned")
                         .at_field("checkpoint"));
    }
  } else if (auto ok = VerifyConsistency(request.old_size, checkpoint.size, proof, (*current)->root,
                                         checkpoint.root);
             !ok) {
    return Refused(
        Error("witness.inconsistent", "the checkpoint of " + log.origin + " at size " +
                                          std::to_string(checkpoint.size) +
                                          " is not consistent with the one cosigned at size " +
                                          std::to_string(stored_size) + ": " + ok.error().message())
            .at_field("proof"));
  }

  uint64_t timestamp = impl.clock();
  if (*current) timestamp = std::max(timestamp, (*current)->timestamp);
  const std::string line = CosignatureLine(in.opened.text, impl.signer, timestamp);
  // A savepoint per request: a storage error undoes this request's writes only.
  auto store = [&]() -> Status {
    PEDIGREE_ASSIGN(savepoint, sql::Savepoint::Begin(impl.db));
    {
      PEDIGREE_ASSIGN(
          q,
          impl.db.Prepare("INSERT INTO witness_state(origin, size, root, timestamp, "
                          "cosigned_note) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(origin) DO "
                          "UPDATE SET size = ?2, root = ?3, timestamp = ?4, cosigned_note = ?5"));
      q->Bind(1, log.origin)
          .Bind(2, static_cast<int64_t>(checkpoint.size))
          .Bind(3, std::span<const uint8_t>(checkpoint.root))
          .Bind(4, static_cast<int64_t>(timestamp))
          .Bind(5, in.served + line);
      PEDIGREE_TRY(q->Run());
    }
    PEDIGREE_ASSIGN(
        q, impl.db.Prepare("INSERT INTO witness_evidence(origin, size, root, timestamp, note, "
                           "cosignature) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    q->Bind(1, log.origin)
        .Bind(2, static_cast<int64_t>(checkpoint.size))
        .Bind(3, std::span<const uint8_t>(checkpoint.root))
        .Bind(4, static_cast<int64_t>(timestamp))
        .Bind(5, in.request.note)
        .Bind(6, line);
    PEDIGREE_TRY(q->Run());
    return savepoint->Release();
  };
  if (auto st = store(); !st) return Refused(st.error());
  stores = true;
  return AddCheckpointOutcome{line, {}};
}

void CommitBatch(Witness::Impl& impl, std::vector<Pending*>& batch) {
  std::lock_guard lock(impl.mu);
  auto tx = sql::Transaction::Begin(impl.db);
  if (!tx) {
    for (Pending* p : batch) p->outcome = Refused(tx.error());
    return;
  }
  bool any_stores = false;
  for (Pending* p : batch) {
    p->outcome = Apply(impl, *p->prepared, p->stores);
    any_stores |= p->stores;
  }
  if (!any_stores) return;  // refusals only: nothing to commit (the destructor rolls back)
  if (auto committed = tx->Commit(); !committed) {
    // Nothing of the batch is stored, so no answer may rest on it: a 409 naming a size a
    // neighbour just failed to store would be as wrong as its 200.
    for (Pending* p : batch) p->outcome = Refused(committed.error());
  }
}

}  // namespace

AddCheckpointOutcome Witness::AddCheckpoint(std::string_view body) {
  auto parsed = ParseAddCheckpoint(body);
  if (!parsed) return Refused(parsed.error());
  Prepared in;
  in.request = *std::move(parsed);
  const std::string& note = in.request.note;

  // Note syntax (UTF-8, no control characters, a blank line, signature lines) before we
  // trust any of its text.
  if (auto syntax = OpenNote(note, {}); !syntax && syntax.error().code() == "note.malformed") {
    return Refused(Error("witness.bad_note", "the checkpoint note: " + syntax.error().message())
                       .at_field("checkpoint"));
  }
  const std::string_view text = std::string_view(note).substr(0, note.rfind("\n\n") + 1);
  auto checkpoint = ParseCheckpoint(text);
  if (!checkpoint) {
    return Refused(Error("witness.bad_checkpoint",
                         "the note is not a checkpoint: " + checkpoint.error().message())
                       .at_field("checkpoint"));
  }
  in.checkpoint = *std::move(checkpoint);
  auto found = impl_->by_origin.find(in.checkpoint.origin);
  if (found == impl_->by_origin.end()) {
    return Refused(Error("witness.unknown_log",
                         "this witness does not witness the log \"" + in.checkpoint.origin + "\"")
                       .at_field("origin"));
  }
  in.log_index = found->second;
  const WitnessedLog& log = impl_->logs[in.log_index];
  auto opened = OpenNote(note, log.keys);
  if (!opened) {
    return Refused(Error("witness.bad_signature",
                         "the checkpoint of " + log.origin +
                             " is not signed by its trusted key: " + opened.error().message())
                       .at_field("checkpoint"));
  }
  in.opened = *std::move(opened);
  if (in.request.old_size > in.checkpoint.size) {
    return Refused(Error("witness.old_too_large", "old size " +
                                                      std::to_string(in.request.old_size) +
                                                      " is above the checkpoint's size " +
                                                      std::to_string(in.checkpoint.size))
                       .at_field("old"));
  }
  in.served = VerifiedLines(note, in.opened);

  // Group commit: the commit's fsync (synchronous=FULL) costs milliseconds on a virtual
  // disk, the checks and the signature tens of microseconds. Requests that arrive while a
  // batch is committing queue up; whichever of them finds no batch running takes the whole
  // queue and commits it as one transaction, one fsync. Every answer still waits for the
  // commit that made its state durable.
  Pending pending;
  pending.prepared = &in;
  std::unique_lock queue_lock(impl_->queue_mu);
  impl_->queue.push_back(&pending);
  while (!pending.done) {
    if (impl_->committing) {
      impl_->queue_cv.wait(queue_lock);
      continue;
    }
    // Not done and no batch running: `pending` is still in the queue.
    impl_->committing = true;
    std::vector<Pending*> batch;
    batch.swap(impl_->queue);
    queue_lock.unlock();
    CommitBatch(*impl_, batch);
    queue_lock.lock();
    for (Pending* p : batch) p->done = true;
    impl_->committing = false;
    impl_->queue_cv.notify_all();
  }
  return std::move(pending.outcome);
}

Result<std::vector<WitnessEvidence>> Witness::Evidence(std::string_view origin) {
  std::lock_guard lock(impl_->mu);
  PEDIGREE_ASSIGN(
      q, impl_->db.Prepare("SELECT id, origin, size, root, timestamp, note, cosignature FROM "
                           "witness_evidence WHERE ?1 = '' OR origin = ?1 ORDER BY id"));
  q->Bind(1, origin);
  std::vector<WitnessEvidence> out;
  PEDIGREE_TRY(q->ForEachRow([&](const sql::Query& r) {
    WitnessEvidence e;
    e.id = r.Int(0);
    e.origin = r.Text(1);
    e.size = static_cast<uint64_t>(r.Int(2));
    auto root = r.Blob(3);
    std::copy_n(root.begin(), std::min(root.size(), e.root.size()), e.root.begin());
    e.timestamp = static_cast<uint64_t>(r.Int(4));
    e.note = r.Text(5);
    e.cosignature = r.Text(6);
    out.push_back(std::move(e));
  }));
  return out;
}

}  // namespace pedigree::log
