#include "pedigree/ledger/envelope.h"

#include <cassert>
#include <span>
#include <unordered_map>

namespace pedigree::ledger {
namespace {

constexpr std::string_view kHead = "{\"alg\":\"Ed25519\",\"key\":\"";
constexpr std::string_view kAfterKey = "\",\"payload\":";
constexpr std::string_view kBeforeSig = ",\"sig\":\"";
constexpr std::string_view kTail = "\"}";
constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

// Finds the first number a signed payload may not carry; `path` names it.
bool FindForbiddenNumber(const JsonValue& v, std::string& path) {
  switch (v.kind()) {
    case JsonValue::Kind::kDouble:
      return true;
    case JsonValue::Kind::kInt:
      return v.as_int() > kMaxSafeInteger || v.as_int() < -kMaxSafeInteger;
    case JsonValue::Kind::kArray:
      for (size_t i = 0; i < v.as_array().size(); ++i) {
        if (FindForbiddenNumber(v.as_array()[i], path)) {
          path = "[" + std::to_string(i) + "]" + path;
          return true;
        }
      }
      return false;
    case JsonValue::Kind::kObject:
      for (const auto& [key, member] : v.as_object()) {
        if (FindForbiddenNumber(member, path)) {
          path = "." + key + path;
          return true;
        }
      }
      return false;
    default:
      return false;
  }
}

// Building an EVP_PKEY costs OpenSSL 3.0 about as much as parsing and canonicalising a
// whole envelope, and a log sees the same few organisation keys again and again, so each
// verifying thread keeps the keys it has built. Bounded: cleared when full.
Result<PublicKey> CachedPublicKey(std::span<const uint8_t> raw) {
  constexpr size_t kMaxCachedKeys = 4096;
  thread_local std::unordered_map<std::string, PublicKey> cache;
  std::string id(AsText(raw));
  if (auto it = cache.find(id); it != cache.end()) return it->second;
  auto key = PublicKey::FromRaw(raw);
  if (!key) return key;
  if (cache.size() >= kMaxCachedKeys) cache.clear();
  cache.emplace(std::move(id), *key);
  return key;
}

Error Malformed(const std::string& field, const std::string& message) {
  return Error("entry.malformed", message).at_field(field);
}

// What OpenEntry and VerifyEntry share: everything but the copies OpenEntry hands out.
struct CheckedEnvelope {
  JsonValue root;
  std::string_view payload_bytes;
  PublicKey key;
  Bytes signature;
};

Status CheckEnvelope(std::string_view envelope, CheckedEnvelope& out) {
  JsonParseOptions options;
  options.integers_only = true;
  auto parsed = ParseJson(envelope, options);
  if (!parsed) {
    const Error& e = parsed.error();
    Error wrapped("entry.malformed",
                  "envelope is not valid JSON: " + e.message() + " (" + e.code() + ")");
    if (e.location().offset) wrapped = wrapped.at_offset(*e.location().offset);
    if (e.location().line)
      wrapped = wrapped.at_line_column(*e.location().line, *e.location().column);
    if (!e.field().empty()) wrapped = wrapped.at_field(e.field());
    return Fail(std::move(wrapped));
  }
  out.root = std::move(*parsed);
  const JsonValue& root = out.root;
  if (!root.is_object()) return Fail(Malformed("", "envelope is not a JSON object"));
  for (const auto& [name, value] : root.as_object()) {
    if (name != "alg" && name != "key" && name != "payload" && name != "sig") {
      return Fail(Malformed(name, "unexpected envelope member \"" + name + "\""));
    }
  }
  const JsonValue* alg = root.find("alg");
  const JsonValue* key = root.find("key");
  const JsonValue* payload = root.find("payload");
  const JsonValue* sig = root.find("sig");
  for (auto [name, member] :
       {std::pair{"alg", alg}, {"key", key}, {"payload", payload}, {"sig", sig}}) {
    if (!member)
      return Fail(Malformed(name, std::string("envelope has no \"") + name + "\" member"));
  }
  if (!alg->is_string()) return Fail(Malformed("alg", "\"alg\" must be a string"));
  if (alg->as_string() != kEntryAlgorithm) {
    return Fail(Error("entry.unsupported_alg", "unsupported signature algorithm \"" +
                                                   alg->as_string() + "\", expected \"" +
                                                   std::string(kEntryAlgorithm) + "\"")
                    .at_field("alg"));
  }
  if (!key->is_string()) return Fail(Malformed("key", "\"key\" must be a base64 string"));
  auto key_bytes = FromBase64(key->as_string());
  if (!key_bytes) return Fail(Malformed("key", "\"key\": " + key_bytes.error().message()));
  auto public_key = CachedPublicKey(*key_bytes);
  if (!public_key) return Fail(Malformed("key", "\"key\": " + public_key.error().message()));
  if (!payload->is_object()) return Fail(Malformed("payload", "\"payload\" must be an object"));
  if (!sig->is_string()) return Fail(Malformed("sig", "\"sig\" must be a base64 string"));
  auto sig_bytes = FromBase64(sig->as_string());
  if (!sig_bytes) return Fail(Malformed("sig", "\"sig\": " + sig_bytes.error().message()));
  if (sig_bytes->size() != kEd25519SignatureSize) {
    return Fail(
        Malformed("sig", "\"sig\" must hold 64 bytes, got " + std::to_string(sig_bytes->size())));
  }

  thread_local std::string canonical;
  canonical.clear();
  CanonicalizeTo(root, canonical);
  if (canonical != envelope) {
    size_t n = std::min(canonical.size(), envelope.size());
    size_t i = 0;
    while (i < n && canonical[i] == envelope[i]) ++i;
    return Fail(Error("entry.not_canonical",
                      "envelope is not RFC 8785 canonical JSON; first difference at byte " +
                          std::to_string(i))
                    .at_offset(i));
  }
  // Canonical with exactly these members means the layout is fixed, so the payload's
  // canonical bytes are a slice of the envelope.
  size_t begin = kHead.size() + key->as_string().size() + kAfterKey.size();
  size_t end = envelope.size() - kTail.size() - sig->as_string().size() - kBeforeSig.size();
  out.payload_bytes = envelope.substr(begin, end - begin);
  assert(out.payload_bytes == Canonicalize(*payload));

  thread_local std::string message;
  message.assign(kEntrySignaturePrefix);
  message.append(out.payload_bytes);
  auto verified = public_key->Verify(message, *sig_bytes);
  if (!verified) {
    return Fail(Error("entry.bad_signature",
                      "entry signature does not verify under key " + public_key->Fingerprint())
                    .at_field("sig"));
  }
  out.key = std::move(*public_key);
  out.signature = std::move(*sig_bytes);
  return Ok();
}

}  // namespace

Result<std::string> SignEntry(const JsonValue& payload, const PrivateKey& key) {
  if (!payload.is_object()) {
    return Fail(Malformed("payload", "an entry payload must be a JSON object"));
  }
  std::string path;
  if (FindForbiddenNumber(payload, path)) {
    return Fail(Malformed("payload" + path,
                          "signed payloads carry only integers within ±(2^53-1); payload" + path +
                              " is not one (write decimals as strings)"));
  }
  std::string out;
  out.reserve(256);
  out.append(kEntrySignaturePrefix);
  CanonicalizeTo(payload, out);
  // A value built in code can hold what no parser accepts (invalid UTF-8, duplicate names,
  // too deep): sign nothing OpenEntry would refuse.
  JsonParseOptions options;
  options.integers_only = true;
  auto reparsed =
      CheckCanonical(std::string_view(out).substr(kEntrySignaturePrefix.size()), options);
  if (!reparsed) {
    return Fail(Malformed("payload", "payload would not open again: " + reparsed.error().message() +
                                         " (" + reparsed.error().code() + ")"));
  }
  Bytes signature = key.Sign(out);
  std::string payload_bytes = out.substr(kEntrySignaturePrefix.size());
  out.clear();
  out.append(kHead);
  out.append(ToBase64(key.public_key().raw()));
  out.append(kAfterKey);
  out.append(payload_bytes);
  out.append(kBeforeSig);
  out.append(ToBase64(signature));
  out.append(kTail);
  return out;
}

Result<OpenedEntry> OpenEntry(std::string_view envelope) {
  CheckedEnvelope checked;
  auto st = CheckEnvelope(envelope, checked);
  if (!st) return std::unexpected(st.error());
  JsonValue* payload = checked.root.find("payload");
  return OpenedEntry{std::move(*payload), std::string(checked.payload_bytes),
                     std::move(checked.key), std::move(checked.signature)};
}

Status VerifyEntry(std::string_view envelope) {
  CheckedEnvelope checked;
  return CheckEnvelope(envelope, checked);
}

}  // namespace pedigree::ledger
