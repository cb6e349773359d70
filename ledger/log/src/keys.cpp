#include "pedigree/log/keys.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace pedigree::log {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

// The most recent OpenSSL error as text, clearing the thread's error queue.
std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

// Without this callback OpenSSL would prompt on the terminal for an encrypted key.
int NoPassphrase(char*, int, int, void*) { return -1; }

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string Errno() { return std::strerror(errno); }

// sodium_init picks the fastest implementations for this CPU; it must have run before the
// first libsodium call, and the static makes that happen exactly once across threads.
void EnsureSodium() {
  static const bool ready = sodium_init() >= 0;
  // sodium_init fails only when the system cannot provide randomness at all.
  if (!ready) std::abort();
}

// libsodium hashes the message from its pointer even when it is empty; never hand it null.
const unsigned char* MessageData(std::span<const uint8_t> message) {
  static const unsigned char kNone = 0;
  return message.empty() ? &kNone : message.data();
}

}  // namespace

// ---------------------------------------------------------------------------------------
// PublicKey

Result<PublicKey> PublicKey::FromRaw(std::span<const uint8_t> raw) {
  if (raw.size() != kEd25519PublicKeySize) {
    return Fail("key.malformed",
                "Ed25519 public key must be 32 bytes, got " + std::to_string(raw.size()));
  }
  // Any 32 bytes are kept: a key that is not a valid point simply verifies nothing.
  PublicKey key;
  std::copy(raw.begin(), raw.end(), key.raw_.begin());
  key.present_ = true;
  return key;
}

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr);
  if (!pkey) return Fail("key.malformed", "not a PEM public key: " + OpenSslError());
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> owner(pkey, EVP_PKEY_free);
  if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
    return Fail("key.wrong_type", std::string("expected an Ed25519 public key, got ") +
                                      OBJ_nid2sn(EVP_PKEY_get_id(pkey)));
  }
  std::array<uint8_t, 32> raw;
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(pkey, raw.data(), &len) != 1 || len != raw.size()) {
    return Fail("key.malformed", "cannot extract the raw public key: " + OpenSslError());
  }
  return FromRaw(raw);
}

std::string PublicKey::ToPem() const {
  assert(present_);
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> pkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw_.data(), raw_.size()),
      EVP_PKEY_free);
  // OpenSSL takes any 32 bytes as an Ed25519 public key; only allocation can fail.
  if (!pkey) std::abort();
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), pkey.get());
  return BioToString(bio.get());
}

Status PublicKey::Verify(std::span<const uint8_t> message,
                         std::span<const uint8_t> signature) const {
  if (!present_) return Fail("crypto.bad_signature", "no public key to verify with");
  if (signature.size() != kEd25519SignatureSize) {
    return Fail("crypto.bad_signature",
                "Ed25519 signature must be 64 bytes, got " + std::to_string(signature.size()));
  }
  EnsureSodium();
  if (crypto_sign_verify_detached(signature.data(), MessageData(message), message.size(),
                                  raw_.data()) != 0) {
    return Fail("crypto.bad_signature",
                "Ed25519 signature does not verify under key " + Fingerprint());
  }
  return Ok();
}

std::string PublicKey::Fingerprint() const {
  Hash h = Sha256(raw_);
  return ToHex(std::span<const uint8_t>(h.data(), 8));
}

// ---------------------------------------------------------------------------------------
// PrivateKey

void PrivateKey::PkeyFree::operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }

void PrivateKey::SecretKeyWipe::operator()(SecretKey* p) const {
  sodium_memzero(p->data(), p->size());
  delete p;
}

PrivateKey::PrivateKey(std::unique_ptr<EVP_PKEY, PkeyFree> pkey,
                       std::unique_ptr<SecretKey, SecretKeyWipe> sk, PublicKey pub)
    : pkey_(std::move(pkey)), secret_(std::move(sk)), public_key_(std::move(pub)) {}

PrivateKey::~PrivateKey() = default;

Result<PrivateKey> PrivateKey::FromEvp(std::unique_ptr<EVP_PKEY, PkeyFree> pkey) {
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
    return Fail("key.wrong_type", std::string("expected an Ed25519 private key, got ") +
                                      OBJ_nid2sn(EVP_PKEY_get_id(pkey.get())));
  }
  std::array<uint8_t, kEd25519SeedSize> seed;
  size_t seed_len = seed.size();
  if (EVP_PKEY_get_raw_private_key(pkey.get(), seed.data(), &seed_len) != 1 ||
      seed_len != seed.size()) {
    return Fail("key.malformed", "cannot extract the Ed25519 seed: " + OpenSslError());
  }
  std::array<uint8_t, kEd25519PublicKeySize> ossl_pub;
  size_t pub_len = ossl_pub.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), ossl_pub.data(), &pub_len) != 1 ||
      pub_len != ossl_pub.size()) {
    sodium_memzero(seed.data(), seed.size());
    return Fail("key.malformed", "cannot derive the public key: " + OpenSslError());
  }
  EnsureSodium();
  std::unique_ptr<SecretKey, SecretKeyWipe> sk(new SecretKey);
  std::array<uint8_t, kEd25519PublicKeySize> pub;
  crypto_sign_seed_keypair(pub.data(), sk->data(), seed.data());
  sodium_memzero(seed.data(), seed.size());
  // A PKCS#8 file carries only the seed, but a PEM may also hold a stored public key; the
  // key we sign with must be the one we announce.
  if (pub != ossl_pub) {
    return Fail("key.malformed", "the public key derived from the seed is " + ToHex(pub) +
                                     ", the key file says " + ToHex(ossl_pub));
  }
  auto public_key = PublicKey::FromRaw(pub);
  if (!public_key) return std::unexpected(public_key.error());
  return PrivateKey(std::move(pkey), std::move(sk), std::move(*public_key));
}

PrivateKey PrivateKey::Generate() {
  std::array<uint8_t, kEd25519SeedSize> seed;
  RandomBytes(seed);
  auto key = FromSeed(seed);
  sodium_memzero(seed.data(), seed.size());
  // A 32-byte seed is always a valid Ed25519 private key.
  if (!key) std::abort();
  return std::move(*key);
}

Result<PrivateKey> PrivateKey::FromSeed(std::span<const uint8_t> seed) {
  if (seed.size() != kEd25519SeedSize) {
    return Fail("key.malformed",
                "Ed25519 seed must be 32 bytes, got " + std::to_string(seed.size()));
  }
  EVP_PKEY* pkey =
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size());
  if (!pkey) return Fail("key.malformed", "OpenSSL rejected the seed: " + OpenSslError());
  return FromEvp(std::unique_ptr<EVP_PKEY, PkeyFree>(pkey));
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr);
  if (!pkey) {
    return Fail("key.malformed", "not an unencrypted PKCS#8 PEM private key: " + OpenSslError());
  }
  return FromEvp(std::unique_ptr<EVP_PKEY, PkeyFree>(pkey));
}

Result<PrivateKey> PrivateKey::LoadPem(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return Fail(Error("key.not_found", "no key file at " + path).at_field(path));
    return Fail(Error("key.io", "cannot open " + path + ": " + Errno()).at_field(path));
  }
  // Check the file we opened, not the path, so a swap between the two cannot fool us.
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    std::string err = Errno();
    ::close(fd);
    return Fail(Error("key.io", "cannot stat " + path + ": " + err).at_field(path));
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Fail(Error("key.insecure_permissions",
                      "private key file " + path + " has mode " + mode +
                          "; it must not be accessible by group or others (chmod 600)")
                    .at_field(path));
  }
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) {
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > (1 << 20)) break;  // a key file is never this large
  }
  ::close(fd);
  if (n < 0) return Fail(Error("key.io", "cannot read " + path).at_field(path));
  auto key = FromPem(text);
  OPENSSL_cleanse(text.data(), text.size());
  if (!key) return Fail(key.error().with_context(path).at_field(path));
  return key;
}

std::string PrivateKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return BioToString(bio.get());
}

Status PrivateKey::SavePem(const std::string& path) const {
  std::string pem = ToPem();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    OPENSSL_cleanse(pem.data(), pem.size());
    if (errno == EEXIST) {
      return Fail(
          Error("key.exists", "refusing to overwrite existing file " + path).at_field(path));
    }
    return Fail(Error("key.io", "cannot create " + path + ": " + Errno()).at_field(path));
  }
  size_t written = 0;
  while (written < pem.size()) {
    ssize_t n = ::write(fd, pem.data() + written, pem.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    written += static_cast<size_t>(n);
  }
  bool ok = written == pem.size() && ::fsync(fd) == 0;
  std::string err = ok ? "" : Errno();
  ::close(fd);
  OPENSSL_cleanse(pem.data(), pem.size());
  if (!ok) {
    ::unlink(path.c_str());
    return Fail(Error("key.io", "cannot write " + path + ": " + err).at_field(path));
  }
  return Ok();
}

Bytes PrivateKey::Sign(std::span<const uint8_t> message) const {
  assert(secret_);
  Bytes sig(kEd25519SignatureSize);
  // With a well-formed secret key crypto_sign_detached cannot fail (it always returns 0).
  crypto_sign_detached(sig.data(), nullptr, MessageData(message), message.size(), secret_->data());
  return sig;
}

}  // namespace pedigree::log
