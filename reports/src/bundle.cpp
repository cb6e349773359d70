// The offline bundle: PackEvidence as one JSON file with C2SP tlog-proofs.
#include "pedigree/reports/bundle.h"

#include <charconv>

#include "bundle_json.h"
#include "pedigree/base/canonical_json.h"

namespace pedigree::reports {
namespace {

Error BadProof(std::string message, uint64_t line, std::string field) {
  return Error("bundle.bad_proof", std::move(message))
      .at_line_column(line, 1)
      .at_field(std::move(field));
}

Error Missing(const std::string& field) {
  return Error("bundle.missing_field", "the bundle has no member " + field).at_field(field);
}
Error Bad(const std::string& field, const std::string& what) {
  return Error("bundle.bad_field", field + " " + what).at_field(field);
}

}  // namespace

std::string FormatTlogProof(const TlogProof& proof) {
  std::string out(kTlogProofHeader);
  out += '\n';
  if (!proof.extra.empty()) out += "extra " + ToBase64(proof.extra) + "\n";
  out += "index " + std::to_string(proof.index) + "\n";
  for (const Hash& h : proof.path) out += ToBase64(h) + "\n";
  out += '\n';
  out += proof.checkpoint;
  return out;
}

Result<TlogProof> ParseTlogProof(std::string_view text) {
  TlogProof proof;
  uint64_t line_no = 0;
  auto next_line = [&](std::string_view& line) {
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return false;
    line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    ++line_no;
    return true;
  };
  std::string_view line;
  if (!next_line(line) || line != kTlogProofHeader) {
    return Fail(BadProof("a tlog-proof starts with the line " + std::string(kTlogProofHeader), 1,
                         "header"));
  }
  if (!next_line(line)) return Fail(BadProof("the proof ends after its header", 2, "index"));
  if (line.substr(0, 6) == "extra ") {
    auto extra = FromBase64(line.substr(6));
    if (!extra) return Fail(BadProof("extra: " + extra.error().message(), line_no, "extra"));
    proof.extra = std::move(*extra);
    if (!next_line(line)) return Fail(BadProof("the proof ends after extra", line_no, "index"));
  }
  std::string_view digits = line.substr(0, 6) == "index " ? line.substr(6) : std::string_view();
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), proof.index);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      (digits.size() > 1 && digits[0] == '0')) {
    return Fail(BadProof("expected 'index N' in decimal, got '" + std::string(line) + "'", line_no,
                         "index"));
  }
  while (true) {
    if (!next_line(line)) {
      return Fail(BadProof("the proof has no blank line before its checkpoint", line_no, "path"));
    }
    if (line.empty()) break;
    auto hash = HashFromBase64(line);
    if (!hash) {
      return Fail(
          BadProof("path hash " + std::to_string(proof.path.size()) + ": " + hash.error().message(),
                   line_no, "path"));
    }
    proof.path.push_back(*hash);
  }
  if (text.empty()) return Fail(BadProof("the proof has no checkpoint", line_no + 1, "checkpoint"));
  proof.checkpoint = std::string(text);
  return proof;
}

namespace internal {

void SetEvidenceMembers(JsonValue& out, const PackEvidence& evidence) {
  auto entries = JsonValue::Array();
  for (const EvidenceEntry& e : evidence.entries) {
    entries.push_back(
        JsonValue::Object()
            .set("index", e.index)
            .set("entry", e.envelope)
            .set("proof", FormatTlogProof({{}, e.index, e.proof, evidence.checkpoint})));
  }
  out.set("authorityKey", evidence.authority_key).set("checkpoint", evidence.checkpoint);
  if (!evidence.latest_checkpoint.empty()) {
    auto consistency = JsonValue::Array();
    for (const Hash& h : evidence.consistency) consistency.push_back(ToBase64(h));
    out.set("latestCheckpoint", evidence.latest_checkpoint)
        .set("consistency", std::move(consistency));
  }
  if (!evidence.evidence_index.empty()) {
    out.set("evidenceIndex", evidence.evidence_index)
        .set("evidenceIndexSignature", evidence.evidence_index_signature);
  }
  out.set("entries", std::move(entries));
}

}  // namespace internal

std::string WriteBundle(const PackEvidence& evidence) {
  const bool v2 = !evidence.evidence_index.empty();
  auto bundle = JsonValue::Object()
                    .set("format", std::string(v2 ? kBundleFormat : kBundleFormatV1))
                    .set("pack", evidence.pack);
  internal::SetEvidenceMembers(bundle, evidence);
  return Canonicalize(bundle) + "\n";
}

Result<PackEvidence> ReadBundle(std::string_view bytes) {
  auto parsed = ParseJson(bytes, {.integers_only = true});
  if (!parsed) {
    Error e = parsed.error();
    return Fail(
        Error("bundle.json", "the bundle is not JSON: " + e.ToString())
            .at_offset(e.location().offset.value_or(0))
            .at_line_column(e.location().line.value_or(0), e.location().column.value_or(0)));
  }
  return internal::ReadBundleJson(*parsed);
}

Result<PackEvidence> internal::ReadBundleJson(const JsonValue& b) {
  if (!b.is_object()) return Fail(Bad("(top level)", "must be a JSON object"));
  auto string = [&](const JsonValue& o, const char* name,
                    const std::string& field) -> Result<std::string> {
    const JsonValue* v = o.find(name);
    if (!v) return Fail(Missing(field));
    if (!v->is_string()) return Fail(Bad(field, "must be a string"));
    return v->as_string();
  };
  const JsonValue* format = b.find("format");
  const bool v2 = format && format->is_string() && format->as_string() == kBundleFormat;
  const bool v1 = format && format->is_string() && format->as_string() == kBundleFormatV1;
  if (!v1 && !v2) {
    return Fail(Error("bundle.format", "format must be \"" + std::string(kBundleFormat) +
                                           "\" (or \"" + std::string(kBundleFormatV1) +
                                           "\"), got " +
                                           (format ? Canonicalize(*format) : "nothing"))
                    .at_field("format"));
  }
  PackEvidence evidence;
  if (v2) {
    PEDIGREE_ASSIGN(index, string(b, "evidenceIndex", "evidenceIndex"));
    PEDIGREE_ASSIGN(signature, string(b, "evidenceIndexSignature", "evidenceIndexSignature"));
    if (index->empty()) return Fail(Bad("evidenceIndex", "must not be empty"));
    evidence.evidence_index = *index;
    evidence.evidence_index_signature = *signature;
  } else if (b.find("evidenceIndex") || b.find("evidenceIndexSignature")) {
    // Relabelling a v2 bundle as v1 must not make its index disappear silently either way.
    return Fail(Error("bundle.format",
                      "a pedigree-bundle/v1 carries no evidence index; this one "
                      "does: its format should be " +
                          std::string(kBundleFormat))
                    .at_field("format"));
  }
  PEDIGREE_ASSIGN(pack, string(b, "pack", "pack"));
  PEDIGREE_ASSIGN(authority, string(b, "authorityKey", "authorityKey"));
  PEDIGREE_ASSIGN(checkpoint, string(b, "checkpoint", "checkpoint"));
  evidence.pack = *pack;
  evidence.authority_key = *authority;
  evidence.checkpoint = *checkpoint;
  if (b.find("latestCheckpoint")) {
    PEDIGREE_ASSIGN(latest, string(b, "latestCheckpoint", "latestCheckpoint"));
    evidence.latest_checkpoint = *latest;
    const JsonValue* consistency = b.find("consistency");
    if (!consistency) return Fail(Missing("consistency"));
    if (!consistency->is_array()) return Fail(Bad("consistency", "must be an array"));
    for (size_t i = 0; i < consistency->size(); ++i) {
      std::string field = "consistency[" + std::to_string(i) + "]";
      const JsonValue& h = consistency->as_array()[i];
      if (!h.is_string()) return Fail(Bad(field, "must be a base64 string"));
      auto hash = HashFromBase64(h.as_string());
      if (!hash) return Fail(Bad(field, "is not a base64 SHA-256 hash: " + hash.error().message()));
      evidence.consistency.push_back(*hash);
    }
  }
  const JsonValue* entries = b.find("entries");
  if (!entries) return Fail(Missing("entries"));
  if (!entries->is_array()) return Fail(Bad("entries", "must be an array"));
  for (size_t i = 0; i < entries->size(); ++i) {
    std::string field = "entries[" + std::to_string(i) + "]";
    const JsonValue& e = entries->as_array()[i];
    if (!e.is_object()) return Fail(Bad(field, "must be an object"));
    const JsonValue* index = e.find("index");
    if (!index) return Fail(Missing(field + ".index"));
    if (!index->is_int() || index->as_int() < 0) {
      return Fail(Bad(field + ".index", "must be a non-negative integer"));
    }
    PEDIGREE_ASSIGN(envelope, string(e, "entry", field + ".entry"));
    PEDIGREE_ASSIGN(proof_text, string(e, "proof", field + ".proof"));
    auto proof = ParseTlogProof(*proof_text);
    if (!proof) {
      Error err = proof.error();
      return Fail(Error(err.code(), field + ".proof: " + err.message())
                      .at_field(field + ".proof." + err.field())
                      .at_line_column(err.location().line.value_or(0), 1));
    }
    uint64_t idx = static_cast<uint64_t>(index->as_int());
    if (proof->index != idx) {
      return Fail(Error("bundle.proof_index", field + ".proof is for index " +
                                                  std::to_string(proof->index) +
                                                  ", the entry's index is " + std::to_string(idx))
                      .at_field(field + ".proof"));
    }
    if (proof->checkpoint != evidence.checkpoint) {
      return Fail(Error("bundle.proof_checkpoint",
                        field + ".proof ends in another checkpoint than the bundle's checkpoint")
                      .at_field(field + ".proof"));
    }
    if (!evidence.entries.empty() && idx <= evidence.entries.back().index) {
      return Fail(Error("bundle.order", field + ".index " + std::to_string(idx) +
                                            " does not follow " +
                                            std::to_string(evidence.entries.back().index))
                      .at_field(field + ".index"));
    }
    evidence.entries.push_back({idx, *envelope, std::move(proof->path)});
  }
  return evidence;
}

}  // namespace pedigree::reports
