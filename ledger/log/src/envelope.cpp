#include "pedigree/log/envelope.h"

#include <cassert>
#include <optional>
#include <span>
#include <unordered_map>

namespace pedigree::log {
namespace {

constexpr std::string_view kHead = "{\"alg\":\"Ed25519\",\"key\":\"";
constexpr std::string_view kAfterKey = "\",\"payload\":";
constexpr std::string_view kBeforeSig = ",\"sig\":\"";
constexpr std::string_view kTail = "\"}";
constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

// Finds the first number a signed payload may not carry and appends its path below `v`
// to `path`; leaves `path` as it was when there is none. The path grows by appending
// and shrinks back on the way out: prepending with `"[" + ... + path` made GCC 12 report
// a false -Wrestrict at -O3, which broke Release builds with warnings as errors.
bool FindForbiddenNumber(const JsonValue& v, std::string& path) {
  const size_t mark = path.size();
  switch (v.kind()) {
    case JsonValue::Kind::kDouble:
      return true;
    case JsonValue::Kind::kInt:
      return v.as_int() > kMaxSafeInteger || v.as_int() < -kMaxSafeInteger;
    case JsonValue::Kind::kArray:
      for (size_t i = 0; i < v.as_array().size(); ++i) {
        path += '[';
        path += std::to_string(i);
        path += ']';
        if (FindForbiddenNumber(v.as_array()[i], path)) return true;
        path.resize(mark);
      }
      return false;
    case JsonValue::Kind::kObject:
      for (const auto& [key, member] : v.as_object()) {
        path += '.';
        path += key;
        if (FindForbiddenNumber(member, path)) return true;
        path.resize(mark);
      }
      return false;
    default:
      return false;
  }
}

// Building a key costs about as much as parsing a small envelope, and a log sees the same
// few organisation keys again and again, so each verifying thread keeps the keys it has
// built, by their base64 text (which skips decoding it too). Bounded: cleared when full.
// Errors name what is wrong with the text, for the "key" field.
Result<PublicKey> CachedPublicKey(std::string_view base64) {
  constexpr size_t kMaxCachedKeys = 4096;
  thread_local std::unordered_map<std::string, PublicKey> cache;
  thread_local std::string id;
  id.assign(base64);
  if (auto it = cache.find(id); it != cache.end()) return it->second;
  auto raw = FromBase64(base64);
  if (!raw) return std::unexpected(raw.error());
  auto key = PublicKey::FromRaw(*raw);
  if (!key) return key;
  if (cache.size() >= kMaxCachedKeys) cache.clear();
  cache.emplace(id, *key);
  return key;
}

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '=';
}

// The parts of an envelope laid out as every canonical one is:
// {"alg":"Ed25519","key":"<key>","payload":<payload>,"sig":"<sig>"} with <key> and <sig>
// made of base64 characters only (which JSON strings carry unescaped).
struct EnvelopeLayout {
  std::string_view key;
  std::string_view payload;
  std::string_view sig;
};

// Splits `envelope` by the canonical layout; nullopt when it is laid out any other way.
// Says nothing of the payload beyond its place: the caller checks it is canonical.
std::optional<EnvelopeLayout> SplitCanonicalLayout(std::string_view envelope) {
  if (!envelope.starts_with(kHead) || !envelope.ends_with(kTail)) return std::nullopt;
  size_t key_end = kHead.size();
  while (key_end < envelope.size() && IsBase64Char(envelope[key_end])) ++key_end;
  if (envelope.substr(key_end, kAfterKey.size()) != kAfterKey) return std::nullopt;
  const size_t payload_begin = key_end + kAfterKey.size();
  const size_t sig_end = envelope.size() - kTail.size();
  if (sig_end < payload_begin) return std::nullopt;
  size_t sig_begin = sig_end;
  while (sig_begin > payload_begin && IsBase64Char(envelope[sig_begin - 1])) --sig_begin;
  if (sig_begin < payload_begin + kBeforeSig.size() ||
      envelope.substr(sig_begin - kBeforeSig.size(), kBeforeSig.size()) != kBeforeSig) {
    return std::nullopt;
  }
  EnvelopeLayout out;
  out.key = envelope.substr(kHead.size(), key_end - kHead.size());
  out.payload = envelope.substr(payload_begin, sig_begin - kBeforeSig.size() - payload_begin);
  out.sig = envelope.substr(sig_begin, sig_end - sig_begin);
  if (!out.payload.starts_with('{')) return std::nullopt;
  return out;
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

// Checks the key and signature texts and the signature over `payload_bytes`, which the
// caller has established are the parts of a canonical envelope.
Status CheckSignature(std::string_view key_text, std::string_view payload_bytes,
                      std::string_view sig_text, PublicKey& key_out, Bytes& sig_out) {
  auto public_key = CachedPublicKey(key_text);
  if (!public_key) return Fail(Malformed("key", "\"key\": " + public_key.error().message()));
  auto sig_bytes = FromBase64(sig_text);
  if (!sig_bytes) return Fail(Malformed("sig", "\"sig\": " + sig_bytes.error().message()));
  if (sig_bytes->size() != kEd25519SignatureSize) {
    return Fail(
        Malformed("sig", "\"sig\" must hold 64 bytes, got " + std::to_string(sig_bytes->size())));
  }
  thread_local std::string message;
  message.assign(kEntrySignaturePrefix);
  message.append(payload_bytes);
  auto verified = public_key->Verify(message, *sig_bytes);
  if (!verified) {
    return Fail(Error("entry.bad_signature",
                      "entry signature does not verify under key " + public_key->Fingerprint())
                    .at_field("sig"));
  }
  key_out = std::move(*public_key);
  sig_out = std::move(*sig_bytes);
  return Ok();
}

// The whole check without building the envelope's tree, for envelopes laid out as
// canonical ones are: the payload must still be canonical JSON on its own (parsed with one
// level less nesting allowed, the envelope's), which with the fixed layout makes the
// envelope canonical; the key and signature checks are the same. Returns nullopt when the
// envelope is laid out otherwise or its payload is not canonical, so that the full check
// runs and names the problem.
std::optional<Status> CheckCanonicalEnvelope(std::string_view envelope, std::string_view& payload,
                                             PublicKey& key, Bytes& signature) {
  auto layout = SplitCanonicalLayout(envelope);
  if (!layout) return std::nullopt;
  JsonParseOptions options;
  options.integers_only = true;
  options.max_depth = JsonParseOptions{}.max_depth - 1;
  if (!CheckCanonical(layout->payload, options)) return std::nullopt;
  payload = layout->payload;
  return CheckSignature(layout->key, layout->payload, layout->sig, key, signature);
}

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
  auto public_key = CachedPublicKey(key->as_string());
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
  std::string_view payload;
  PublicKey key;
  Bytes signature;
  if (auto fast = CheckCanonicalEnvelope(envelope, payload, key, signature)) return *fast;
  CheckedEnvelope checked;
  return CheckEnvelope(envelope, checked);
}

}  // namespace pedigree::log
