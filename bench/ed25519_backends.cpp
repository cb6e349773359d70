// Ed25519 sign and verify, single-threaded CPU per operation on the same dispense-sized
// messages, through the three paths that matter: pedigree's PrivateKey::Sign /
// PublicKey::Verify (libsodium underneath), libsodium called directly (the floor), and
// OpenSSL 3.0 EVP as pedigree used it before (a reused signing context, a fresh verifying
// context per call). Checks on the way: every signature is byte-identical between the
// libraries (Ed25519 is deterministic) and each verifies the other's; exit 1 otherwise.
// See docs/performance.md, "Crypto".
//
// usage: bench_ed25519_backends [messages]   (default 3000)
#include <openssl/evp.h>
#include <sodium.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.h"
#include "pedigree/log/keys.h"

namespace {

using pedigree::Bytes;
using pedigree::log::PrivateKey;
using pedigree::log::PublicKey;

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

const unsigned char* Data(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Microseconds of CPU per call of `op(i)` over i in [0, n).
template <typename Op>
double MicrosPerOp(int n, Op op) {
  double c0 = CpuSeconds();
  for (int i = 0; i < n; ++i) op(i);
  return (CpuSeconds() - c0) / n * 1e6;
}

std::string Fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3000;
  if (sodium_init() < 0) return 1;
  std::array<uint8_t, 32> seed{};
  pedigree::RandomBytes(seed);
  PrivateKey key = PrivateKey::FromSeed(seed).value();
  PublicKey pub = key.public_key();
  std::array<unsigned char, 32> pk{};
  std::array<unsigned char, 64> sk{};
  crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());

  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> priv(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()),
      EVP_PKEY_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pubkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pk.data(), pk.size()), EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sign_ctx(EVP_MD_CTX_new(),
                                                                   EVP_MD_CTX_free);
  if (!priv || !pubkey || !sign_ctx ||
      EVP_DigestSignInit(sign_ctx.get(), nullptr, nullptr, nullptr, priv.get()) != 1) {
    return 1;
  }

  // Dispense payloads as the node signs them (prefix + canonical JSON, ~212 bytes).
  std::vector<std::string> messages;
  for (int i = 0; i < n; ++i) {
    messages.push_back(
        "pedigree/entry/v1\n{\"clientId\":\"node-" + std::to_string(i) +
        "\",\"epcs\":[\"https://id.gs1.org/01/09506000134352/21/T0N" + std::to_string(i) +
        "\"],\"kind\":\"decommission\",\"location\":\"4000001000005\",\"org\":\"ph1\","
        "\"status\":\"supplied\",\"time\":\"2026-11-21T08:00:00Z\",\"v\":1}");
  }
  std::vector<Bytes> ours(n);
  std::vector<std::array<unsigned char, 64>> sod(n), ossl(n);
  bool failed = false;

  const double ours_sign = MicrosPerOp(n, [&](int i) { ours[i] = key.Sign(messages[i]); });
  const double sod_sign = MicrosPerOp(n, [&](int i) {
    crypto_sign_detached(sod[i].data(), nullptr, Data(messages[i]), messages[i].size(), sk.data());
  });
  const double ossl_sign = MicrosPerOp(n, [&](int i) {
    size_t len = 64;
    if (EVP_DigestSign(sign_ctx.get(), ossl[i].data(), &len, Data(messages[i]),
                       messages[i].size()) != 1)
      failed = true;
  });

  int ours_ok = 0, sod_ok = 0, ossl_ok = 0, identical = 0;
  // Each verifies another backend's signatures, so agreement is checked while timing.
  const double ours_verify =
      MicrosPerOp(n, [&](int i) { ours_ok += pub.Verify(messages[i], ossl[i]).has_value(); });
  const double sod_verify = MicrosPerOp(n, [&](int i) {
    sod_ok += crypto_sign_verify_detached(ours[i].data(), Data(messages[i]), messages[i].size(),
                                          pk.data()) == 0;
  });
  const double ossl_verify = MicrosPerOp(n, [&](int i) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    ossl_ok +=
        ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pubkey.get()) == 1 &&
        EVP_DigestVerify(ctx.get(), sod[i].data(), 64, Data(messages[i]), messages[i].size()) == 1;
  });
  for (int i = 0; i < n; ++i) {
    identical += std::equal(ours[i].begin(), ours[i].end(), sod[i].begin()) &&
                 std::equal(sod[i].begin(), sod[i].end(), ossl[i].begin());
  }
  std::printf(
      "# %d messages of %zu bytes; identical signatures (pedigree, libsodium, OpenSSL) %d/%d; "
      "pedigree verified %d of OpenSSL's, libsodium %d of pedigree's, OpenSSL %d of "
      "libsodium's\n",
      n, messages[0].size(), identical, n, ours_ok, sod_ok, ossl_ok);

  using pedigree::bench::Report;
  const std::string ossl_sign_ref = "OpenSSL 3.0 EVP, reused context " + Fixed(ossl_sign) +
                                    " us: " + Fixed(ossl_sign / ours_sign) + "x";
  const std::string ossl_verify_ref = "OpenSSL 3.0 EVP, fresh context " + Fixed(ossl_verify) +
                                      " us: " + Fixed(ossl_verify / ours_verify) + "x";
  Report("Ed25519 sign, pedigree PrivateKey::Sign (libsodium)", ours_sign, "us CPU",
         ">= 2x faster than OpenSSL", ossl_sign_ref);
  Report("Ed25519 sign, libsodium direct", sod_sign, "us CPU", "none (floor)", ossl_sign_ref);
  Report("Ed25519 sign, OpenSSL 3.0 EVP", ossl_sign, "us CPU", "none (previous backend)",
         "pedigree " + Fixed(ours_sign) + " us");
  Report("Ed25519 verify, pedigree PublicKey::Verify (libsodium)", ours_verify, "us CPU",
         ">= 2x faster than OpenSSL", ossl_verify_ref);
  Report("Ed25519 verify, libsodium direct", sod_verify, "us CPU", "none (floor)", ossl_verify_ref);
  Report("Ed25519 verify, OpenSSL 3.0 EVP", ossl_verify, "us CPU", "none (previous backend)",
         "pedigree " + Fixed(ours_verify) + " us");
  return !failed && identical == n && ours_ok == n && sod_ok == n && ossl_ok == n ? 0 : 1;
}
