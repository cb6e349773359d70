#include "pedigree/log/note.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <set>
#include <utility>

namespace pedigree::log {
namespace {

// U+2014 EM DASH followed by a space starts every signature line.
constexpr std::string_view kSignaturePrefix = "\xE2\x80\x94 ";
constexpr std::string_view kCosignatureHeader = "cosignature/v1\ntime ";
// Go's note.Open stops at 100; the spec asks verifiers to accept at least 16.
constexpr size_t kMaxSignatures = 100;

// Decodes one UTF-8 code point at s[i], advancing i; returns -1 for invalid UTF-8
// (overlongs, surrogates, > U+10FFFF, truncation).
int32_t DecodeUtf8(std::string_view s, size_t& i) {
  unsigned char b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  size_t len;
  uint32_t cp, min;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2, cp = b0 & 0x1f, min = 0x80;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3, cp = b0 & 0x0f, min = 0x800;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (i + len > s.size()) return -1;
  for (size_t k = 1; k < len; ++k) {
    unsigned char b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xc0) != 0x80) return -1;
    cp = cp << 6 | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
  i += len;
  return static_cast<int32_t>(cp);
}

// Go's unicode.IsSpace, which golang.org/x/mod/sumdb/note uses for names.
bool IsUnicodeSpace(int32_t cp) {
  switch (cp) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xa0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202f:
    case 0x205f:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200a;
  }
}

uint32_t ReadBigEndian32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
uint64_t ReadBigEndian64(const uint8_t* p) {
  return uint64_t{ReadBigEndian32(p)} << 32 | ReadBigEndian32(p + 4);
}
void AppendBigEndian(Bytes& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

std::string KeyIdHex(uint32_t id) {
  Bytes b;
  AppendBigEndian(b, id, 4);
  return ToHex(b);
}

std::string CosignedMessage(std::string_view body, uint64_t timestamp) {
  std::string message(kCosignatureHeader);
  message += std::to_string(timestamp);
  message.push_back('\n');
  message.append(body);
  return message;
}

Error Malformed(std::string message, uint64_t line) {
  return Error("note.malformed", std::move(message)).at_line_column(line, 1);
}

// Parses a decimal without sign or leading zeros.
bool ParseDecimal(std::string_view s, uint64_t& out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

struct SignatureLine {
  std::string_view name;
  std::string_view base64;
  Bytes signature;  // decoded, key ID included
  uint64_t line;
};

struct SplitNote {
  std::string_view text;
  std::vector<SignatureLine> signatures;
};

// Syntax of a signed note, without any verification.
Result<SplitNote> Split(std::string_view note) {
  uint64_t line = 1;
  for (size_t i = 0; i < note.size();) {
    size_t at = i;
    int32_t cp = DecodeUtf8(note, i);
    if (cp < 0) {
      return Fail(Malformed("invalid UTF-8 at byte " + std::to_string(at), line).at_offset(at));
    }
    if (cp == '\n') {
      ++line;
    } else if (cp < 0x20 || cp == 0x7f) {
      return Fail(
          Malformed("control character " + std::to_string(cp) + " at byte " + std::to_string(at),
                    line)
              .at_offset(at));
    }
  }
  size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) {
    return Fail(Malformed("no blank line before the signatures", line));
  }
  SplitNote out;
  out.text = note.substr(0, split + 1);
  std::string_view sigs = note.substr(split + 2);
  uint64_t sig_line = static_cast<uint64_t>(std::count(out.text.begin(), out.text.end(), '\n')) + 2;
  if (sigs.empty()) return Fail(Malformed("no signature lines", sig_line));
  if (sigs.back() != '\n')
    return Fail(Malformed("last signature line does not end in a newline", line));
  while (!sigs.empty()) {
    size_t nl = sigs.find('\n');
    std::string_view text_line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    if (!text_line.starts_with(kSignaturePrefix)) {
      return Fail(Malformed("signature line does not start with \"\xE2\x80\x94 \"", sig_line));
    }
    text_line.remove_prefix(kSignaturePrefix.size());
    size_t space = text_line.find(' ');
    if (space == std::string_view::npos) {
      return Fail(Malformed("signature line has no space between name and signature", sig_line));
    }
    SignatureLine sig{text_line.substr(0, space), text_line.substr(space + 1), {}, sig_line};
    if (!IsValidNoteKeyName(sig.name)) {
      return Fail(Malformed("invalid key name \"" + std::string(sig.name) + "\"", sig_line));
    }
    auto decoded = FromBase64(sig.base64);
    if (!decoded || decoded->size() < 5) {
      return Fail(Malformed(
          "signature of " + std::string(sig.name) + " is not base64 of a key ID and a signature",
          sig_line));
    }
    sig.signature = std::move(*decoded);
    out.signatures.push_back(std::move(sig));
    if (out.signatures.size() > kMaxSignatures) {
      return Fail(
          Malformed("more than " + std::to_string(kMaxSignatures) + " signatures", sig_line));
    }
    ++sig_line;
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Checkpoints

std::string FormatCheckpoint(const Checkpoint& checkpoint) {
  return checkpoint.origin + "\n" + std::to_string(checkpoint.size) + "\n" +
         ToBase64(checkpoint.root) + "\n";
}

Result<Checkpoint> ParseCheckpoint(std::string_view body) {
  // A body that could not be the text of a signed note is no checkpoint either.
  uint64_t text_line = 1;
  for (size_t i = 0; i < body.size();) {
    size_t at = i;
    int32_t cp = DecodeUtf8(body, i);
    if (cp == '\n') {
      ++text_line;
    } else if (cp < 0x20 || cp == 0x7f) {
      return Fail(
          Error("checkpoint.malformed", cp < 0 ? "invalid UTF-8 at byte " + std::to_string(at)
                                               : "control character at byte " + std::to_string(at))
              .at_line_column(text_line, 1)
              .at_offset(at));
    }
  }
  std::string_view lines[3];
  std::string_view rest = body;
  for (int i = 0; i < 3; ++i) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      return Fail(Error("checkpoint.malformed",
                        "checkpoint has " + std::to_string(i) +
                            " complete lines; it needs origin, size and root, each ending in '\\n'")
                      .at_line_column(static_cast<uint64_t>(i) + 1, 1));
    }
    lines[i] = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
  }
  Checkpoint cp;
  if (lines[0].empty()) {
    return Fail(Error("checkpoint.malformed", "empty origin").at_line_column(1, 1));
  }
  for (size_t i = 0; i < lines[0].size(); ++i) {
    unsigned char c = static_cast<unsigned char>(lines[0][i]);
    if (c == ' ' || c == '+' || c < 0x20 || c == 0x7f) {
      return Fail(Error("checkpoint.malformed", "origin \"" + std::string(lines[0]) +
                                                    "\" contains a space, '+' or a "
                                                    "control character")
                      .at_line_column(1, i + 1));
    }
  }
  cp.origin = std::string(lines[0]);
  if (!ParseDecimal(lines[1], cp.size)) {
    return Fail(
        Error("checkpoint.malformed", "tree size \"" + std::string(lines[1]) +
                                          "\" is not a decimal number without leading zeros")
            .at_line_column(2, 1));
  }
  auto root = HashFromBase64(lines[2]);
  if (!root) {
    return Fail(Error("checkpoint.bad_root",
                      "root \"" + std::string(lines[2]) + "\": " + root.error().message())
                    .at_line_column(3, 1));
  }
  cp.root = *root;
  // Extension lines are allowed (and ignored) but must be complete, non-empty lines.
  uint64_t line = 4;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos || nl == 0) {
      return Fail(Error("checkpoint.malformed", "extension line is empty or unterminated")
                      .at_line_column(line, 1));
    }
    rest.remove_prefix(nl + 1);
    ++line;
  }
  return cp;
}

// ---------------------------------------------------------------------------------------
// Keys

uint32_t NoteKeyId(std::string_view name, NoteKeyType type, std::span<const uint8_t> public_key) {
  std::string input(name);
  input.push_back('\n');
  input.push_back(static_cast<char>(type));
  input.append(AsText(public_key));
  Hash h = Sha256(input);
  return ReadBigEndian32(h.data());
}

bool IsValidNoteKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size();) {
    int32_t cp = DecodeUtf8(name, i);
    if (cp < 0 || cp == '+' || cp < 0x20 || cp == 0x7f || IsUnicodeSpace(cp)) return false;
  }
  return true;
}

NoteSigner::NoteSigner(std::string name, PrivateKey key, NoteKeyType type)
    : name_(std::move(name)), key_(std::move(key)), type_(type) {
  assert(IsValidNoteKeyName(name_));
  key_id_ = NoteKeyId(name_, type_, key_.public_key().raw());
}

std::string NoteSigner::VerifierKey() const {
  return NoteVerifier(name_, type_, key_.public_key()).ToString();
}

Bytes NoteSigner::SignatureBytes(std::string_view text, uint64_t timestamp) const {
  Bytes out;
  out.reserve(4 + 8 + kEd25519SignatureSize);
  AppendBigEndian(out, key_id_, 4);
  Bytes sig;
  if (type_ == NoteKeyType::kCosignatureV1) {
    AppendBigEndian(out, timestamp, 8);
    sig = key_.Sign(CosignedMessage(text, timestamp));
  } else {
    sig = key_.Sign(text);
  }
  out.insert(out.end(), sig.begin(), sig.end());
  return out;
}

Result<NoteVerifier> NoteVerifier::Parse(std::string_view vkey) {
  // name+hex+base64; base64 may itself contain '+', so split at the first two only.
  size_t p1 = vkey.find('+');
  size_t p2 = p1 == std::string_view::npos ? p1 : vkey.find('+', p1 + 1);
  if (p2 == std::string_view::npos) {
    return Fail("note.bad_verifier_key",
                "verifier key \"" + std::string(vkey) + "\" is not name+keyid+key");
  }
  std::string_view name = vkey.substr(0, p1);
  std::string_view id_hex = vkey.substr(p1 + 1, p2 - p1 - 1);
  std::string_view key_b64 = vkey.substr(p2 + 1);
  if (!IsValidNoteKeyName(name)) {
    return Fail("note.bad_verifier_key", "invalid key name \"" + std::string(name) + "\"");
  }
  auto id = FromHex(id_hex);
  if (id_hex.size() != 8 || !id) {
    return Fail("note.bad_verifier_key",
                "key ID \"" + std::string(id_hex) + "\" is not 8 hex digits");
  }
  auto key = FromBase64(key_b64);
  if (!key || key->empty()) {
    return Fail("note.bad_verifier_key", "key of " + std::string(name) + " is not base64");
  }
  uint8_t type = (*key)[0];
  if (type != static_cast<uint8_t>(NoteKeyType::kEd25519) &&
      type != static_cast<uint8_t>(NoteKeyType::kCosignatureV1)) {
    return Fail("note.unsupported_key_type",
                "key type 0x" + ToHex(std::span<const uint8_t>(&type, 1)) + " of " +
                    std::string(name) + " is not supported (0x01 Ed25519, 0x04 cosignature/v1)");
  }
  auto pub = PublicKey::FromRaw(std::span<const uint8_t>(*key).subspan(1));
  if (!pub) {
    return Fail("note.bad_verifier_key",
                "key of " + std::string(name) + ": " + pub.error().message());
  }
  NoteVerifier v(std::string(name), static_cast<NoteKeyType>(type), std::move(*pub));
  uint32_t claimed = ReadBigEndian32(id->data());
  if (claimed != v.key_id()) {
    return Fail("note.bad_verifier_key", "verifier key of " + std::string(name) +
                                             " claims key ID " + std::string(id_hex) +
                                             " but the key hashes to " + KeyIdHex(v.key_id()));
  }
  return v;
}

NoteVerifier::NoteVerifier(std::string name, NoteKeyType type, PublicKey key)
    : name_(std::move(name)), type_(type), key_(std::move(key)) {
  key_id_ = NoteKeyId(name_, type_, key_.raw());
}

std::string NoteVerifier::ToString() const {
  Bytes typed;
  typed.push_back(static_cast<uint8_t>(type_));
  typed.insert(typed.end(), key_.raw().begin(), key_.raw().end());
  return name_ + "+" + KeyIdHex(key_id_) + "+" + ToBase64(typed);
}

// ---------------------------------------------------------------------------------------
// Signing

std::string NoteSignatureLine(std::string_view text, const NoteSigner& signer) {
  assert(signer.type() == NoteKeyType::kEd25519);
  return std::string(kSignaturePrefix) + signer.name() + " " +
         ToBase64(signer.SignatureBytes(text)) + "\n";
}

std::string CosignatureLine(std::string_view checkpoint_body, const NoteSigner& cosigner,
                            uint64_t timestamp) {
  assert(cosigner.type() == NoteKeyType::kCosignatureV1);
  return std::string(kSignaturePrefix) + cosigner.name() + " " +
         ToBase64(cosigner.SignatureBytes(checkpoint_body, timestamp)) + "\n";
}

std::string SignNote(std::string_view text, const NoteSigner& signer) {
  assert(!text.empty() && text.back() == '\n');
  return std::string(text) + "\n" + NoteSignatureLine(text, signer);
}

Result<std::string> AddSignatureLines(std::string_view note, std::string_view lines) {
  std::string combined(note);
  combined.append(lines);
  auto split = Split(combined);
  if (!split) return std::unexpected(split.error());
  return combined;
}

Result<std::string> AddSignature(std::string_view note, const NoteSigner& signer) {
  auto split = Split(note);
  if (!split) return std::unexpected(split.error());
  return std::string(note) + NoteSignatureLine(split->text, signer);
}

Result<std::string> Cosign(std::string_view note, const NoteSigner& cosigner, uint64_t timestamp) {
  auto split = Split(note);
  if (!split) return std::unexpected(split.error());
  return std::string(note) + CosignatureLine(split->text, cosigner, timestamp);
}

// ---------------------------------------------------------------------------------------
// Opening

Result<OpenedNote> OpenNote(std::string_view note, std::span<const NoteVerifier> verifiers) {
  auto split = Split(note);
  if (!split) return std::unexpected(split.error());
  OpenedNote out;
  out.text = std::string(split->text);
  std::set<size_t> verified_by;
  for (const SignatureLine& sig : split->signatures) {
    uint32_t id = ReadBigEndian32(sig.signature.data());
    size_t index = verifiers.size();
    for (size_t i = 0; i < verifiers.size(); ++i) {
      if (verifiers[i].key_id() == id && verifiers[i].name() == sig.name) {
        index = i;
        break;
      }
    }
    if (index == verifiers.size()) {
      ++out.unverified_count;
      continue;
    }
    const NoteVerifier& v = verifiers[index];
    std::span<const uint8_t> rest = std::span<const uint8_t>(sig.signature).subspan(4);
    std::optional<uint64_t> timestamp;
    Status ok;
    if (v.type() == NoteKeyType::kCosignatureV1) {
      if (rest.size() != 8 + kEd25519SignatureSize) {
        return Fail(Error("note.bad_signature", "cosignature of " + v.name() + " has " +
                                                    std::to_string(rest.size() + 4) +
                                                    " bytes, expected 76")
                        .at_line_column(sig.line, 1));
      }
      timestamp = ReadBigEndian64(rest.data());
      ok = v.public_key().Verify(CosignedMessage(split->text, *timestamp), rest.subspan(8));
    } else {
      ok = v.public_key().Verify(split->text, rest);
    }
    if (!ok) {
      return Fail(Error("note.bad_signature",
                        "signature of " + v.name() + "+" + KeyIdHex(id) + " does not verify")
                      .at_line_column(sig.line, 1));
    }
    // Go's note.Open drops repeated signatures by one key unchecked; we check every one and
    // report each key once.
    if (!verified_by.insert(index).second) continue;
    out.verified.push_back(VerifiedSignature{index, v.name(), id, v.type(), timestamp});
  }
  if (out.verified.empty()) {
    return Fail("note.no_verified_signature", "none of the " +
                                                  std::to_string(split->signatures.size()) +
                                                  " signatures is by a known key");
  }
  return out;
}

}  // namespace pedigree::log
