// AuditReport: ledger/integrity.h AuditLog does the recomputation and the checks; this
// file opens the database without the writer lock, supplies the signature and
// checkpoint verifiers, and turns the outcome into the report JSON.
#include "pedigree/reports/audit_report.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "pedigree/log/envelope.h"
#include "pedigree/log/integrity.h"
#include "pedigree/log/ledger.h"
#include "pedigree/log/note.h"
#include "pedigree/provenance/derived_audit.h"
#include "pedigree/provenance/provenance_ledger.h"
#include "report_frame.h"

namespace pedigree::reports {
namespace {

using frame::Check;
using frame::Int;

// Which audit check each AuditLog finding belongs to.
struct CheckSpec {
  const char* id;
  const char* pass_detail;
  const char* problem_code;
};
constexpr CheckSpec kChecks[] = {
    {"storage.open", "the database opens and its tiles cover exactly the stored entries",
     "storage.corrupt"},
    {"entries.present", "no entry row is missing below the stored size", "audit.missing_entry"},
    {"entries.leaf_hashes", "every leaf hash recomputed from its entry matches the stored one",
     "audit.leaf_mismatch"},
    {"tree.hashes", "every stored interior hash matches the one recomputed from the entries",
     "audit.hash_mismatch"},
    {"entries.signatures", "every entry's Ed25519 signature verifies", "audit.bad_entry"},
    {"checkpoints.roots", "every stored checkpoint's root equals the recomputed tree root",
     "audit.checkpoint_mismatch"},
    {"checkpoints.signatures", "every stored checkpoint's note is signed by the log key",
     "audit.checkpoint_signature"},
    {"checkpoints.consistency",
     "consecutive checkpoints, and each with the newest, pass consistency proofs",
     "audit.inconsistent"},
};

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

Result<std::string> ReadFileText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail("report.no_ledger", "cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

Result<JsonValue> AuditReport(const std::string& ledger_dir, const AuditOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const std::string db_path = (std::filesystem::path(ledger_dir) / log::kLedgerDbFile).string();
  std::error_code ec;
  if (!std::filesystem::exists(db_path, ec)) {
    return Fail("report.no_ledger", "no ledger database at " + db_path);
  }
  std::string vkey_text = options.log_verifier_key;
  const bool key_given = !vkey_text.empty();
  if (!key_given) {
    auto text =
        ReadFileText((std::filesystem::path(ledger_dir) / log::kLogVerifierKeyFile).string());
    if (!text) return std::unexpected(text.error());
    vkey_text = *text;
  }
  auto log_key = log::NoteVerifier::Parse(vkey_text);
  if (!log_key) return std::unexpected(log_key.error());

  JsonValue report = frame::Frame("audit");
  auto checks = JsonValue::Array();
  auto failures = JsonValue::Array();
  auto log = JsonValue::Object().set("origin", log_key->name());
  auto figures = JsonValue::Object();
  std::optional<log::AuditReport> outcome;
  std::optional<Error> open_failure;
  uint64_t signatures = 0;
  uint64_t checkpoint_notes = 0;
  std::optional<provenance::DerivedAuditReport> derived;

  auto storage = log::OpenLedgerStorage(ledger_dir);
  if (!storage) {
    if (storage.error().code() != "storage.corrupt") return std::unexpected(storage.error());
    open_failure = storage.error();
  } else {
    std::atomic<uint64_t> verified{0};
    auto audited = log::AuditLog(
        **storage,
        [&verified](std::string_view entry) {
          auto st = log::VerifyEntry(entry);
          if (st) verified.fetch_add(1, std::memory_order_relaxed);
          return st;
        },
        options.threads,
        [&](const log::StoredCheckpoint& cp) {
          auto st = log::CheckCheckpointNote(cp, *log_key);
          if (st) ++checkpoint_notes;
          return st;
        },
        options.progress);
    if (!audited) {
      if (audited.error().code() != "storage.corrupt") return std::unexpected(audited.error());
      open_failure = audited.error();
    } else {
      outcome = std::move(*audited);
    }
    signatures = verified.load();
    // The derived tables, once the log itself checks out: replayed and compared row by row.
    if (outcome && outcome->ok()) {
      if (auto model = (*storage)->GetMeta("model"); model && *model == provenance::kModelName) {
        PEDIGREE_ASSIGN(replayed,
                        provenance::AuditDerivedState(**storage, db_path, log_key->public_key()));
        derived = std::move(*replayed);
      }
    }
    if (auto size = (*storage)->Size()) log.set("treeSize", Int(*size));
    if (auto latest = (*storage)->LatestCheckpoint(); latest && *latest) {
      log.set("checkpoint", (*latest)->note);
      log.set("cosignatures", frame::CosignatureNames((*latest)->note, log_key->name()));
    }
  }
  if (outcome) log.set("rootHash", ToHex(outcome->root));
  log.set("verifierKey", log_key->ToString());
  if (!log.find("cosignatures")) log.set("cosignatures", JsonValue::Array());

  // One check per audit step: the step that found the problem fails; steps the audit
  // did not reach (it stops at the first problem) are warnings, not passes.
  const std::string problem_code = open_failure                  ? "storage.corrupt"
                                   : outcome && outcome->problem ? outcome->problem->code()
                                                                 : "";
  for (const CheckSpec& spec : kChecks) {
    if (!problem_code.empty() && problem_code == spec.problem_code) {
      auto c = Check(spec.id, "fail",
                     open_failure ? open_failure->ToString() : outcome->problem->message());
      auto f =
          JsonValue::Object()
              .set("code", open_failure ? open_failure->code() : outcome->problem->code())
              .set("message", open_failure ? open_failure->message() : outcome->problem->message());
      if (outcome && outcome->bad_index) {
        c.set("index", Int(*outcome->bad_index));
        f.set("index", Int(*outcome->bad_index));
      }
      if (outcome && !outcome->expected.empty()) {
        c.set("expected", outcome->expected).set("actual", outcome->calculated);
        f.set("expected", outcome->expected).set("actual", outcome->calculated);
      }
      checks.push_back(std::move(c));
      failures.push_back(std::move(f));
      continue;
    }
    // The audit stops at the first problem and checks hashes, signatures and roots entry
    // by entry, so after a problem no other step can be called complete.
    if (problem_code.empty() || (spec.problem_code == std::string_view("storage.corrupt"))) {
      checks.push_back(Check(spec.id, "pass", spec.pass_detail));
    } else {
      checks.push_back(
          Check(spec.id, "warn", "not completed: the audit stops at the first problem"));
    }
  }
  if (!problem_code.empty() && failures.size() == 0) {
    // A finding this report has no check for still fails the audit, with its code.
    failures.push_back(JsonValue::Object()
                           .set("code", problem_code)
                           .set("message", outcome->problem->message())
                           .set("index", Int(outcome->bad_index.value_or(0))));
  }
  // The replay of the rules: its own check, after the log's.
  const bool derived_failed = derived && !derived->ok();
  if (derived_failed) {
    checks.push_back(Check("derived.replay", "fail", derived->problem->message()));
    if (derived->mismatches.empty()) {
      auto f = JsonValue::Object()
                   .set("code", derived->problem->code())
                   .set("message", derived->problem->message());
      if (derived->bad_index) f.set("index", Int(*derived->bad_index));
      failures.push_back(std::move(f));
    }
    for (const auto& m : derived->mismatches) {
      auto f = JsonValue::Object()
                   .set("code", derived->problem->code())
                   .set("message", "table " + m.table + ", row " + m.key +
                                       " differs from a "
                                       "replay of the log")
                   .set("table", m.table)
                   .set("row", m.key)
                   .set("expected", m.replayed.empty() ? "(no row)" : m.replayed)
                   .set("actual", m.stored.empty() ? "(no row)" : m.stored);
      if (m.index) f.set("index", Int(*m.index));
      failures.push_back(std::move(f));
    }
  } else if (derived) {
    checks.push_back(Check("derived.replay", "pass",
                           "all " + std::to_string(derived->tables_compared.size()) +
                               " derived tables equal a replay of the rules over the " +
                               std::to_string(derived->entries_replayed) + " entries"));
  } else if (problem_code.empty() && outcome) {
    checks.push_back(Check("derived.replay", "pass", "a plain log: no derived tables to replay"));
  } else {
    checks.push_back(
        Check("derived.replay", "warn", "not completed: the audit stops at the first problem"));
  }
  checks.push_back(
      key_given
          ? Check("log.key", "pass", "checkpoints checked against the key given: " + vkey_text)
          : Check("log.key", "warn",
                  "checkpoints checked against log.vkey from the audited directory itself; pass "
                  "the log's key obtained independently to rule out a replaced key file"));

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  figures.set(
      "entriesChecked",
      Int(outcome ? (outcome->problem && outcome->bad_index ? *outcome->bad_index : outcome->size)
                  : 0));
  figures.set("signaturesChecked", Int(signatures));
  figures.set("checkpointsChecked", Int(checkpoint_notes));
  // Canonical JSON carries integers only: decimals travel as strings.
  figures.set("seconds", Seconds(seconds));

  const bool failed = !problem_code.empty() || derived_failed;
  report.set("verdict", failed ? "FAILED" : "VERIFIED");
  std::string summary;
  if (!failed) {
    summary =
        "All " + std::to_string(outcome->size) + " entries, their hashes and signatures, and " +
        std::to_string(checkpoint_notes) + " signed checkpoints check out" +
        std::string(derived ? ", and a replay of the rules reproduces every derived table" : "") +
        ": the database matches the log.";
  } else if (problem_code.empty() && derived_failed) {
    summary =
        "The derived state was changed behind the log's back: " + derived->problem->message() +
        " (" + derived->problem->code() + ").";
  } else if (outcome && outcome->bad_index) {
    summary = "The database was changed behind the log's back: the first divergence is at " +
              std::string(problem_code == "audit.checkpoint_mismatch" ||
                                  problem_code == "audit.checkpoint_signature" ||
                                  problem_code == "audit.inconsistent"
                              ? "the checkpoint of size "
                              : "index ") +
              std::to_string(*outcome->bad_index) + " (" + problem_code + ").";
  } else {
    summary = "The database no longer opens as a log: " + open_failure->message();
  }
  report.set("summary", std::move(summary));
  report.set("log", std::move(log));
  report.set("checks", std::move(checks));
  report.set("failures", std::move(failures));
  report.set("violations", JsonValue::Array());
  report.set("audit", std::move(figures));
  return report;
}

}  // namespace pedigree::reports
