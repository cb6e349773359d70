#include "pedigree/log/envelope.h"

#include <cassert>
#include <optional>
#include <span>
#include <unordered_map>

#include "pedigree/base/time.h"

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

bool IsTimeChar(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == ':' || c == 'T' || c == 'Z';
}

// A log origin as it appears between the quotes of a canonical envelope: the characters
// JCS writes unescaped and the ledger allows in origins (no controls, no space).
bool IsPlainOriginChar(char c) {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && c != '"' && c != '\\' && u != 0x7f;
}

constexpr std::string_view kAfterKeyV2 = "\",\"log\":\"";
constexpr std::string_view kSeqHead = ",\"seq\":{\"time\":\"";
constexpr std::string_view kSeqTail = "\"}";

// The parts of an envelope laid out as every canonical one is:
// {"alg":"Ed25519","key":"<key>"[,"log":"<log>"],"payload":<payload>
//  [,"seq":{"time":"<time>"}],"sig":"<sig>"} with <key> and <sig> made of base64
// characters, <log> of characters JCS writes unescaped and <time> of digits, '-', ':', 'T'
// and 'Z'.
struct EnvelopeLayout {
  std::string_view key;
  std::optional<std::string_view> log;
  std::string_view payload;
  std::optional<std::string_view> seq_time;
  std::string_view sig;
};

// Splits `envelope` by the canonical layout; nullopt when it is laid out any other way.
// Says nothing of the payload beyond its place: the caller checks it is canonical.
std::optional<EnvelopeLayout> SplitCanonicalLayout(std::string_view envelope) {
  if (!envelope.starts_with(kHead) || !envelope.ends_with(kTail)) return std::nullopt;
  EnvelopeLayout out;
  size_t key_end = kHead.size();
  while (key_end < envelope.size() && IsBase64Char(envelope[key_end])) ++key_end;
  out.key = envelope.substr(kHead.size(), key_end - kHead.size());
  size_t after_key = key_end;
  if (envelope.substr(key_end, kAfterKeyV2.size()) == kAfterKeyV2) {
    const size_t log_begin = key_end + kAfterKeyV2.size();
    size_t log_end = log_begin;
    while (log_end < envelope.size() && IsPlainOriginChar(envelope[log_end])) ++log_end;
    if (log_end >= envelope.size() || envelope[log_end] != '"' || log_end == log_begin) {
      return std::nullopt;
    }
    out.log = envelope.substr(log_begin, log_end - log_begin);
    after_key = log_end;
  }
  if (envelope.substr(after_key, kAfterKey.size()) != kAfterKey) return std::nullopt;
  const size_t payload_begin = after_key + kAfterKey.size();
  const size_t sig_end = envelope.size() - kTail.size();
  if (sig_end < payload_begin) return std::nullopt;
  size_t sig_begin = sig_end;
  while (sig_begin > payload_begin && IsBase64Char(envelope[sig_begin - 1])) --sig_begin;
  if (sig_begin < payload_begin + kBeforeSig.size() ||
      envelope.substr(sig_begin - kBeforeSig.size(), kBeforeSig.size()) != kBeforeSig) {
    return std::nullopt;
  }
  out.sig = envelope.substr(sig_begin, sig_end - sig_begin);
  std::string_view rest =
      envelope.substr(payload_begin, sig_begin - kBeforeSig.size() - payload_begin);
  // A payload is a whole object, so it ends in '}'; a seq member is the suffix
  // ,"seq":{"time":"<time>"} right after the payload's '}'. A payload whose last member is a
  // string also ends in '"}', so without that suffix the rest is the payload, unsequenced
  // (such envelopes used to fall to the full parse: every submission of the bench's payload,
  // whose last member is "type"). Quotes inside strings are escaped, so the suffix cannot
  // come from a string; inside the payload it would be followed by the payload's own '}'.
  const size_t seq = rest.ends_with(kSeqTail) ? rest.rfind(kSeqHead) : std::string_view::npos;
  if (out.log && seq != std::string_view::npos && seq > 0 && rest[seq - 1] == '}') {
    const size_t time_begin = seq + kSeqHead.size();
    std::string_view time = rest.substr(time_begin, rest.size() - kSeqTail.size() - time_begin);
    for (char c : time) {
      if (!IsTimeChar(c)) return std::nullopt;
    }
    out.seq_time = time;
    rest = rest.substr(0, seq);
  }
  out.payload = rest;
  if (!out.payload.starts_with('{') || !out.payload.ends_with('}')) return std::nullopt;
  return out;
}

Error Malformed(const std::string& field, const std::string& message) {
  return Error("entry.malformed", message).at_field(field);
}

// What OpenEntry, VerifyEntry and VerifySubmission share.
struct CheckedEnvelope {
  JsonValue root;  // only when the full parse ran
  std::string_view payload_bytes;
  std::string log;  // empty: version 1
  bool has_log = false;
  std::optional<std::string> seq_time;
  PublicKey key;
  Bytes signature;
};

// The message an entry's signature covers.
void BuildMessage(bool v2, std::string_view log, std::string_view payload_bytes,
                  std::string& message) {
  if (v2) {
    message.assign(kEntrySignaturePrefixV2);
    message.append(log);
    message.push_back('\n');
  } else {
    message.assign(kEntrySignaturePrefix);
  }
  message.append(payload_bytes);
}

Status CheckSeqTime(std::string_view text) {
  auto t = ParseUtcTime(text);
  if (!t) {
    return Fail(Malformed("seq", "\"seq\".\"time\" '" + std::string(text) +
                                     "' is not a UTC time: " + t.error().message()));
  }
  return Ok();
}

// Checks the key and signature texts and the signature, which the caller has established
// are the parts of a canonical envelope.
Status CheckSignature(std::string_view key_text, bool v2, std::string_view log,
                      std::string_view payload_bytes, std::string_view sig_text, PublicKey& key_out,
                      Bytes& sig_out) {
  auto public_key = CachedPublicKey(key_text);
  if (!public_key) return Fail(Malformed("key", "\"key\": " + public_key.error().message()));
  auto sig_bytes = FromBase64(sig_text);
  if (!sig_bytes) return Fail(Malformed("sig", "\"sig\": " + sig_bytes.error().message()));
  if (sig_bytes->size() != kEd25519SignatureSize) {
    return Fail(
        Malformed("sig", "\"sig\" must hold 64 bytes, got " + std::to_string(sig_bytes->size())));
  }
  thread_local std::string message;
  BuildMessage(v2, log, payload_bytes, message);
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
// runs and names the problem. `precheck` runs on the layout before the signature (cheap
// refusals first).
template <typename Precheck>
std::optional<Status> CheckCanonicalEnvelope(std::string_view envelope, CheckedEnvelope& out,
                                             const Precheck& precheck) {
  auto layout = SplitCanonicalLayout(envelope);
  if (!layout) return std::nullopt;
  JsonParseOptions options;
  options.integers_only = true;
  options.max_depth = JsonParseOptions{}.max_depth - 1;
  if (!CheckCanonical(layout->payload, options)) return std::nullopt;
  out.payload_bytes = layout->payload;
  out.has_log = layout->log.has_value();
  if (layout->log) out.log.assign(*layout->log);
  if (layout->seq_time) {
    if (auto ok = CheckSeqTime(*layout->seq_time); !ok) return ok;
    out.seq_time = std::string(*layout->seq_time);
  }
  if (auto ok = precheck(out); !ok) return ok;
  return CheckSignature(layout->key, out.has_log, out.log, layout->payload, layout->sig, out.key,
                        out.signature);
}

template <typename Precheck>
Status CheckEnvelope(std::string_view envelope, CheckedEnvelope& out, const Precheck& precheck) {
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
    if (name != "alg" && name != "key" && name != "log" && name != "payload" && name != "seq" &&
        name != "sig") {
      return Fail(Malformed(name, "unexpected envelope member \"" + name + "\""));
    }
  }
  const JsonValue* alg = root.find("alg");
  const JsonValue* key = root.find("key");
  const JsonValue* payload = root.find("payload");
  const JsonValue* sig = root.find("sig");
  const JsonValue* log = root.find("log");
  const JsonValue* seq = root.find("seq");
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
  if (log) {
    if (!log->is_string() || log->as_string().empty() ||
        log->as_string().find('\n') != std::string::npos) {
      return Fail(Malformed("log",
                            "\"log\" must be a log origin: a non-empty string without "
                            "a newline"));
    }
    out.has_log = true;
    out.log = log->as_string();
  }
  if (!payload->is_object()) return Fail(Malformed("payload", "\"payload\" must be an object"));
  if (seq) {
    if (!log) return Fail(Malformed("seq", "a version 1 envelope (no \"log\") has no \"seq\""));
    const JsonValue* time = seq->is_object() ? seq->find("time") : nullptr;
    if (!time || !time->is_string() || seq->as_object().size() != 1) {
      return Fail(Malformed("seq", "\"seq\" must be {\"time\":\"YYYY-MM-DDThh:mm:ssZ\"}"));
    }
    PEDIGREE_TRY(CheckSeqTime(time->as_string()));
    out.seq_time = time->as_string();
  }
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
  // Canonical with these members means the layout is fixed: the payload's canonical bytes
  // follow the first "payload": (a log origin's quotes are escaped, so it cannot hold one).
  thread_local std::string payload_canonical;
  payload_canonical.clear();
  CanonicalizeTo(*payload, payload_canonical);
  constexpr std::string_view kPayloadName = "\"payload\":";
  const size_t begin = envelope.find(kPayloadName) + kPayloadName.size();
  out.payload_bytes = envelope.substr(begin, payload_canonical.size());
  assert(out.payload_bytes == payload_canonical);
  if (auto ok = precheck(out); !ok) return ok;

  thread_local std::string message;
  BuildMessage(out.has_log, out.log, out.payload_bytes, message);
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

// Runs the layout-only check, and the full one when the envelope is not laid out
// canonically (so that its error names the problem).
template <typename Precheck>
Status CheckAny(std::string_view envelope, CheckedEnvelope& out, const Precheck& precheck) {
  if (auto fast = CheckCanonicalEnvelope(envelope, out, precheck)) return *fast;
  out = CheckedEnvelope{};
  return CheckEnvelope(envelope, out, precheck);
}

Status NoPrecheck(const CheckedEnvelope&) { return Ok(); }

Result<std::string> CheckPayload(const JsonValue& payload, std::string& out) {
  if (!payload.is_object()) {
    return Fail(Malformed("payload", "an entry payload must be a JSON object"));
  }
  std::string path;
  if (FindForbiddenNumber(payload, path)) {
    return Fail(Malformed("payload" + path,
                          "signed payloads carry only integers within ±(2^53-1); payload" + path +
                              " is not one (write decimals as strings)"));
  }
  out.clear();
  CanonicalizeTo(payload, out);
  // A value built in code can hold what no parser accepts (invalid UTF-8, duplicate names,
  // too deep): sign nothing OpenEntry would refuse.
  JsonParseOptions options;
  options.integers_only = true;
  auto reparsed = CheckCanonical(out, options);
  if (!reparsed) {
    return Fail(Malformed("payload", "payload would not open again: " + reparsed.error().message() +
                                         " (" + reparsed.error().code() + ")"));
  }
  return out;
}

}  // namespace

Result<std::string> SignEntry(const JsonValue& payload, const PrivateKey& key,
                              std::string_view origin) {
  if (origin.empty() || origin.find('\n') != std::string_view::npos) {
    return Fail(Malformed("log",
                          "the log origin an entry is signed for must be non-empty and "
                          "hold no newline"));
  }
  std::string payload_bytes;
  PEDIGREE_TRY(CheckPayload(payload, payload_bytes));
  std::string message;
  BuildMessage(true, origin, payload_bytes, message);
  Bytes signature = key.Sign(message);
  std::string out;
  out.reserve(payload_bytes.size() + origin.size() + 200);
  out.append(kHead);
  out.append(ToBase64(key.public_key().raw()));
  out.append("\",\"log\":");
  CanonicalizeTo(JsonValue(std::string(origin)), out);
  out.append(",\"payload\":");
  out.append(payload_bytes);
  out.append(kBeforeSig);
  out.append(ToBase64(signature));
  out.append(kTail);
  return out;
}

Result<std::string> SignEntryV1(const JsonValue& payload, const PrivateKey& key) {
  std::string payload_bytes;
  PEDIGREE_TRY(CheckPayload(payload, payload_bytes));
  std::string message;
  BuildMessage(false, "", payload_bytes, message);
  Bytes signature = key.Sign(message);
  std::string out;
  out.append(kHead);
  out.append(ToBase64(key.public_key().raw()));
  out.append(kAfterKey);
  out.append(payload_bytes);
  out.append(kBeforeSig);
  out.append(ToBase64(signature));
  out.append(kTail);
  return out;
}

std::string SignedMessage(const OpenedEntry& entry) {
  std::string message;
  BuildMessage(entry.version == 2, entry.log, entry.payload_bytes, message);
  return message;
}

Result<OpenedEntry> OpenEntry(std::string_view envelope) {
  CheckedEnvelope checked;
  PEDIGREE_TRY(CheckEnvelope(envelope, checked, NoPrecheck));
  JsonValue* payload = checked.root.find("payload");
  OpenedEntry out{std::move(*payload), std::string(checked.payload_bytes), std::move(checked.key),
                  std::move(checked.signature)};
  out.version = checked.has_log ? 2 : 1;
  out.log = std::move(checked.log);
  if (checked.seq_time) {
    out.sequenced_at = ParseUtcTime(*checked.seq_time).value();
    out.sequenced_text = *checked.seq_time;
  }
  return out;
}

Status VerifyEntry(std::string_view envelope) {
  CheckedEnvelope checked;
  return CheckAny(envelope, checked, NoPrecheck);
}

Status VerifySubmission(std::string_view envelope, std::string_view origin) {
  CheckedEnvelope checked;
  return CheckAny(envelope, checked, [origin](const CheckedEnvelope& e) -> Status {
    if (!e.has_log) {
      return Fail(Error("entry.version_unsupported",
                        "a version 1 envelope names no log; sign entries as version 2 "
                        "envelopes for the log '" +
                            std::string(origin) + "'")
                      .at_field("log"));
    }
    if (e.log != origin) {
      return Fail(Error("entry.wrong_log", "the envelope is signed for the log '" + e.log +
                                               "', this log is '" + std::string(origin) + "'")
                      .at_field("log"));
    }
    if (e.seq_time) {
      return Fail(Error("entry.sequenced", "the envelope already carries a sequencing time (" +
                                               *e.seq_time + "); only the log writes \"seq\"")
                      .at_field("seq"));
    }
    return Ok();
  });
}

Status VerifyLeaf(std::string_view envelope, std::string_view origin) {
  CheckedEnvelope checked;
  return CheckAny(envelope, checked, [origin](const CheckedEnvelope& e) -> Status {
    if (!e.has_log) return Ok();
    if (e.log != origin) {
      return Fail(Error("entry.wrong_log", "the leaf names the log '" + e.log + "', this log is '" +
                                               std::string(origin) + "'")
                      .at_field("log"));
    }
    if (!e.seq_time) {
      return Fail(Malformed("seq", "a version 2 leaf must carry its sequencing time"));
    }
    return Ok();
  });
}

bool StampEntry(std::string& envelope, int64_t unix_seconds) {
  // The signature is base64 (no quotes), so the last ,"sig":" is the member itself.
  const size_t at = envelope.rfind(kBeforeSig);
  if (at == std::string::npos || !std::string_view(envelope).starts_with(kHead) ||
      envelope.find(kAfterKeyV2, kHead.size()) == std::string::npos || at == 0 ||
      envelope[at - 1] != '}') {
    return false;
  }
  // The sequencer stamps every entry of a commit with one time: format it once per time,
  // not once per entry (the formatting cost more than the splice).
  thread_local int64_t cached_seconds = 0;
  thread_local std::string member;
  if (member.empty() || cached_seconds != unix_seconds) {
    member.assign(kSeqHead);
    member.append(FormatUtcTime(unix_seconds));
    member.append(kSeqTail);
    cached_seconds = unix_seconds;
  }
  envelope.insert(at, member);
  return true;
}

std::optional<EnvelopeParts> SplitEnvelope(std::string_view envelope) {
  auto layout = SplitCanonicalLayout(envelope);
  if (!layout) return std::nullopt;
  return EnvelopeParts{layout->key, layout->payload, layout->seq_time};
}

std::optional<int64_t> LeafSequencingTime(std::string_view envelope) {
  auto layout = SplitCanonicalLayout(envelope);
  if (layout && layout->seq_time) {
    auto t = ParseUtcTime(*layout->seq_time);
    if (t) return *t;
    return std::nullopt;
  }
  if (layout) return std::nullopt;
  auto opened = OpenEntry(envelope);
  if (!opened) return std::nullopt;
  return opened->sequenced_at;
}

}  // namespace pedigree::log
