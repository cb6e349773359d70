// The evidence index: its canonical form, its signature by the log key, and its check against
// the log it describes.
#include "pedigree/reports/evidence_index.h"

#include <algorithm>
#include <iterator>
#include <set>

#include "entry_checks.h"
#include "pedigree/base/bytes.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/reports/container_report.h"
#include "pedigree/reports/pack_report.h"
#include "pedigree/reports/receipt.h"

namespace pedigree::reports {
namespace {

Error BadIndex(std::string field, std::string message) {
  return Error("bundle.bad_index", "evidence index: " + std::move(message))
      .at_field(std::move(field));
}

}  // namespace

std::string FormatEvidenceIndex(const EvidenceIndex& index) {
  auto entries = JsonValue::Array();
  for (uint64_t i : index.entries) entries.push_back(i);
  return Canonicalize(JsonValue::Object()
                          .set("origin", index.origin)
                          .set("size", index.size)
                          .set("subject", index.subject)
                          .set("entries", std::move(entries)));
}

Result<EvidenceIndex> ParseEvidenceIndex(std::string_view text) {
  auto parsed = ParseJson(text, {.integers_only = true});
  if (!parsed) return Fail(BadIndex("(top level)", "not JSON: " + parsed.error().message()));
  const JsonValue& v = *parsed;
  if (!v.is_object()) return Fail(BadIndex("(top level)", "must be a JSON object"));
  EvidenceIndex index;
  const JsonValue* origin = v.find("origin");
  const JsonValue* size = v.find("size");
  const JsonValue* subject = v.find("subject");
  const JsonValue* entries = v.find("entries");
  if (!origin || !origin->is_string()) return Fail(BadIndex("origin", "origin must be a string"));
  if (!size || !size->is_int() || size->as_int() < 0) {
    return Fail(BadIndex("size", "size must be a non-negative integer"));
  }
  if (!subject || !subject->is_string()) {
    return Fail(BadIndex("subject", "subject must be a string"));
  }
  if (!entries || !entries->is_array()) {
    return Fail(BadIndex("entries", "entries must be an array"));
  }
  index.origin = origin->as_string();
  index.size = static_cast<uint64_t>(size->as_int());
  index.subject = subject->as_string();
  for (size_t k = 0; k < entries->size(); ++k) {
    const JsonValue& e = entries->as_array()[k];
    std::string field = "entries[" + std::to_string(k) + "]";
    if (!e.is_int() || e.as_int() < 0 || static_cast<uint64_t>(e.as_int()) >= index.size) {
      return Fail(
          BadIndex(field, field + " must be an index below size " + std::to_string(index.size)));
    }
    uint64_t i = static_cast<uint64_t>(e.as_int());
    if (!index.entries.empty() && i <= index.entries.back()) {
      return Fail(BadIndex(field, field + " = " + std::to_string(i) + " does not follow " +
                                      std::to_string(index.entries.back())));
    }
    index.entries.push_back(i);
  }
  if (FormatEvidenceIndex(index) != text) {
    return Fail(BadIndex("(top level)",
                         "not in canonical form (exactly the members origin, size, subject, "
                         "entries, RFC 8785 serialised)"));
  }
  return index;
}

std::string SignEvidenceIndex(const log::Ledger& ledger, std::string_view text) {
  std::string message(kEvidenceIndexPrefix);
  message += text;
  return ToBase64(ledger.SignStatement(message));
}

Status VerifyEvidenceIndexSignature(std::string_view text, std::string_view signature_base64,
                                    const log::PublicKey& log_key) {
  auto signature = FromBase64(signature_base64);
  if (!signature) {
    return Fail(Error("bundle.index_signature",
                      "the evidence index signature is not base64: " + signature.error().message())
                    .at_field("evidenceIndexSignature"));
  }
  std::string message(kEvidenceIndexPrefix);
  message += text;
  if (auto ok = log_key.Verify(message, *signature); !ok) {
    return Fail(Error("bundle.index_signature", "the evidence index is not signed by the log key " +
                                                    log_key.Fingerprint() + ": " +
                                                    ok.error().message())
                    .at_field("evidenceIndexSignature"));
  }
  return Ok();
}

Result<EvidenceIndexCheck> CheckEvidenceIndex(log::Ledger& ledger, std::string_view text,
                                              std::string_view signature_base64) {
  PEDIGREE_TRY(VerifyEvidenceIndexSignature(text, signature_base64, ledger.log_public_key()));
  PEDIGREE_ASSIGN(index, ParseEvidenceIndex(text));
  if (index->origin != ledger.origin()) {
    return Fail(Error("bundle.index_mismatch", "the evidence index is for log '" + index->origin +
                                                   "', this ledger is '" + ledger.origin() + "'")
                    .at_field("origin"));
  }
  if (index->size > ledger.size()) {
    return Fail(Error("bundle.index_mismatch", "the evidence index describes the log at size " +
                                                   std::to_string(index->size) +
                                                   ", this ledger holds only " +
                                                   std::to_string(ledger.size()) + " entries")
                    .at_field("size"));
  }
  auto selected = index->subject.starts_with("https://id.gs1.org/00/")
                      ? SelectContainerEvidence(ledger, index->subject, index->size)
                  : index->subject.starts_with("urn:pedigree:trial:")
                      ? SelectReceiptEvidence(ledger, index->subject, index->size)
                      : SelectPackEvidence(ledger, index->subject, index->size);
  if (!selected) return Fail(selected.error());
  EvidenceIndexCheck check;
  std::set_difference(selected->begin(), selected->end(), index->entries.begin(),
                      index->entries.end(), std::back_inserter(check.omitted));
  std::set_difference(index->entries.begin(), index->entries.end(), selected->begin(),
                      selected->end(), std::back_inserter(check.unselected));
  check.index = std::move(*index);
  return check;
}

namespace internal {

bool CheckCompleteness(EntryVerification& v, const TrustAnchors& anchors,
                       const std::string& subject, const std::string& index_text,
                       const std::string& signature, const std::string& what) {
  JsonArray& checks = v.checks();
  if (index_text.empty()) {
    checks.push_back(Warn("evidence.complete",
                          "the evidence carries no evidence index signed by the log (a "
                          "pedigree-bundle/v1): that it holds every entry about the " +
                              what +
                              " is not proven, an entry left out (a recall, a dispense) would go "
                              "unnoticed"));
    v.log().set("evidenceIndex", "absent");
    return false;
  }
  if (auto ok = VerifyEvidenceIndexSignature(index_text, signature, anchors.log.public_key());
      !ok) {
    checks.push_back(Check("evidence.complete", false, ok.error().message()));
    v.Fail(ok.error().code(), ok.error().message());
    v.log().set("evidenceIndex", "invalid");
    return false;
  }
  auto index = ParseEvidenceIndex(index_text);
  if (!index) {
    checks.push_back(Check("evidence.complete", false, index.error().message()));
    v.Fail(index.error().code(), index.error().message());
    v.log().set("evidenceIndex", "invalid");
    return false;
  }
  v.log().set("evidenceIndex", "signed");
  const auto& checkpoint = v.checkpoint();
  if (!checkpoint) {
    checks.push_back(
        Check("evidence.complete", false, "cannot check: the proofs' checkpoint is not verified"));
    return false;
  }
  auto mismatch = [&](const std::string& field, const std::string& expected,
                      const std::string& actual) {
    std::string message =
        "the evidence index is signed for " + field + " " + actual + ", the " +
        (field == "subject" ? "evidence's " + what : std::string("checkpoint's")) + " is " +
        expected;
    checks.push_back(Check("evidence.complete", false, message));
    v.Fail("bundle.index_mismatch", message, {}, expected, actual);
    return false;
  };
  if (index->origin != checkpoint->origin) {
    return mismatch("origin", checkpoint->origin, index->origin);
  }
  if (index->size != checkpoint->size) {
    return mismatch("size", std::to_string(checkpoint->size), std::to_string(index->size));
  }
  if (index->subject != subject) return mismatch("subject", subject, index->subject);
  std::set<uint64_t> present;
  for (const EvidenceEntry& e : v.entries()) present.insert(e.index);
  std::vector<uint64_t> missing, unlisted;
  std::set_difference(index->entries.begin(), index->entries.end(), present.begin(), present.end(),
                      std::back_inserter(missing));
  std::set_difference(present.begin(), present.end(), index->entries.begin(), index->entries.end(),
                      std::back_inserter(unlisted));
  for (uint64_t i : missing) {
    v.Fail("bundle.incomplete",
           "entry " + std::to_string(i) + " is listed by the log's signed evidence index for " +
               "this " + what + " at size " + std::to_string(index->size) +
               " but missing from the evidence",
           i);
  }
  for (uint64_t i : unlisted) {
    v.Fail("bundle.unlisted_entry",
           "entry " + std::to_string(i) +
               " is in the evidence but not listed by the log's signed "
               "evidence index for this " +
               what,
           i);
  }
  if (missing.empty() && unlisted.empty()) {
    checks.push_back(Check("evidence.complete", true,
                           "the log key signed that the evidence for this " + what + " at size " +
                               std::to_string(index->size) + " is exactly these " +
                               std::to_string(index->entries.size()) + " entries; all present"));
  } else {
    checks.push_back(
        Check("evidence.complete", false,
              std::to_string(missing.size()) + " entr" + (missing.size() == 1 ? "y" : "ies") +
                  " listed by the signed evidence index missing" +
                  (missing.empty() ? "" : " (first " + std::to_string(missing.front()) + ")") +
                  ", " + std::to_string(unlisted.size()) + " not listed" +
                  (unlisted.empty() ? "" : " (first " + std::to_string(unlisted.front()) + ")")));
  }
  return missing.empty() && unlisted.empty();
}

}  // namespace internal
}  // namespace pedigree::reports
