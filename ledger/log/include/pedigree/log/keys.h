// Ed25519 keys: raw 32-byte public keys and PKCS#8 PEM private key files (mode 0600) through
// OpenSSL; signing and strict verification through libsodium. See
// ../../../../docs/ledger-format.md, "Keys".
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "pedigree/base/bytes.h"
#include "pedigree/base/error.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace pedigree::log {

inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;
inline constexpr size_t kEd25519SeedSize = 32;

// An Ed25519 public key: 32 raw bytes, cheap to copy. Verify is safe to call from many
// threads at once. A default-constructed key is empty and verifies nothing.
class PublicKey {
 public:
  PublicKey() = default;

  // Requires exactly 32 bytes (key.malformed otherwise).
  [[nodiscard]] static Result<PublicKey> FromRaw(std::span<const uint8_t> raw);
  // A PEM "PUBLIC KEY" (SubjectPublicKeyInfo) block; key.malformed or key.wrong_type.
  [[nodiscard]] static Result<PublicKey> FromPem(std::string_view pem);

  bool empty() const { return !present_; }
  const std::array<uint8_t, 32>& raw() const { return raw_; }
  // PEM SubjectPublicKeyInfo, as `openssl pkey -pubout` writes it. Requires !empty().
  std::string ToPem() const;

  // Succeeds iff `signature` is a valid Ed25519 signature (RFC 8032) of `message` under this
  // key, checked strictly (libsodium 1.0.18: cofactorless equation, canonical S < L,
  // small-order keys and R refused); crypto.bad_signature otherwise (also for a wrong
  // length). Whatever passes also passes OpenSSL's and Go's checks, not necessarily the
  // reverse (docs/threat-model.md).
  [[nodiscard]] Status Verify(std::span<const uint8_t> message,
                              std::span<const uint8_t> signature) const;
  [[nodiscard]] Status Verify(std::string_view message, std::span<const uint8_t> signature) const {
    return Verify(AsBytes(message), signature);
  }

  // Lower-case hex of the first 8 bytes of SHA-256(raw): a display and lookup id, not a
  // security boundary (compare raw() for that).
  std::string Fingerprint() const;

  friend bool operator==(const PublicKey& a, const PublicKey& b) { return a.raw_ == b.raw_; }

 private:
  std::array<uint8_t, 32> raw_{};
  bool present_ = false;
};

// An Ed25519 private key. Move-only owner of the OpenSSL key (for PEM) and of the 64-byte
// libsodium secret key derived from it once (for Sign), which is wiped when the key is
// destroyed; a moved-from key holds neither. Sign is safe to call from many threads at once.
class PrivateKey {
 public:
  // A fresh key from the operating system's RNG.
  static PrivateKey Generate();
  // The RFC 8032 private key whose seed is `seed` (32 bytes; key.malformed otherwise).
  [[nodiscard]] static Result<PrivateKey> FromSeed(std::span<const uint8_t> seed);
  // Reads an unencrypted PKCS#8 PEM file. Errors: key.not_found, key.insecure_permissions
  // (the file grants any access to group or others), key.malformed, key.wrong_type.
  [[nodiscard]] static Result<PrivateKey> LoadPem(const std::string& path);
  // Parses an unencrypted PKCS#8 PEM "PRIVATE KEY" block from memory.
  [[nodiscard]] static Result<PrivateKey> FromPem(std::string_view pem);

  PrivateKey(PrivateKey&&) noexcept = default;
  PrivateKey& operator=(PrivateKey&&) noexcept = default;
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;
  ~PrivateKey();

  // Writes the key as unencrypted PKCS#8 PEM to a new file created with mode 0600.
  // Never overwrites: key.exists if the path exists; key.io for other failures.
  [[nodiscard]] Status SavePem(const std::string& path) const;
  // The PKCS#8 PEM text (secret!).
  std::string ToPem() const;

  PublicKey public_key() const { return public_key_; }
  // The 64-byte Ed25519 signature of `message`. Deterministic (RFC 8032), byte-identical
  // to OpenSSL's. Requires a key that was not moved from.
  Bytes Sign(std::span<const uint8_t> message) const;
  Bytes Sign(std::string_view message) const { return Sign(AsBytes(message)); }

 private:
  struct PkeyFree {
    void operator()(EVP_PKEY* p) const;
  };
  // libsodium's secret key: seed ‖ public key. Freed by wiping it first.
  using SecretKey = std::array<uint8_t, 64>;
  struct SecretKeyWipe {
    void operator()(SecretKey* p) const;
  };
  PrivateKey(std::unique_ptr<EVP_PKEY, PkeyFree> pkey, std::unique_ptr<SecretKey, SecretKeyWipe> sk,
             PublicKey pub);
  static Result<PrivateKey> FromEvp(std::unique_ptr<EVP_PKEY, PkeyFree> pkey);

  std::unique_ptr<EVP_PKEY, PkeyFree> pkey_;
  // On the heap so that a move hands the one copy over instead of leaving a second behind.
  std::unique_ptr<SecretKey, SecretKeyWipe> secret_;
  PublicKey public_key_;
};

}  // namespace pedigree::log
