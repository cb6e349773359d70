// Ed25519 sign and verify through OpenSSL 3.0 EVP (what pedigree uses) against
// libsodium, on the same dispense-sized messages, single-threaded CPU per operation.
// libsodium is loaded at run time (dlopen of Debian's libsodium23), so this builds
// without a link dependency; it is the evidence for switching raw sign/verify to it
// (docs/performance.md, "Dispense"). Checks on the way: every signature is byte-identical
// between the two (Ed25519 is deterministic) and each library verifies the other's.
//
// usage: bench_ed25519_backends [messages]   (default 3000)
#include <dlfcn.h>
#include <sys/resource.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_common.h"
#include "pedigree/ledger/keys.h"

namespace {

using pedigree::Bytes;
using pedigree::ledger::PrivateKey;
using pedigree::ledger::PublicKey;

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The four libsodium entry points used, resolved from the shared library.
struct Sodium {
  int (*init)();
  int (*seed_keypair)(unsigned char* pk, unsigned char* sk, const unsigned char* seed);
  int (*sign_detached)(unsigned char* sig, unsigned long long* siglen, const unsigned char* m,
                       unsigned long long mlen, const unsigned char* sk);
  int (*verify_detached)(const unsigned char* sig, const unsigned char* m, unsigned long long mlen,
                         const unsigned char* pk);
};

bool LoadSodium(Sodium& s) {
  void* lib = nullptr;
  for (const char* name : {"libsodium.so.23", "libsodium.so"}) {
    if ((lib = dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
  }
  if (!lib) return false;
  s.init = reinterpret_cast<decltype(s.init)>(dlsym(lib, "sodium_init"));
  s.seed_keypair =
      reinterpret_cast<decltype(s.seed_keypair)>(dlsym(lib, "crypto_sign_seed_keypair"));
  s.sign_detached = reinterpret_cast<decltype(s.sign_detached)>(dlsym(lib, "crypto_sign_detached"));
  s.verify_detached =
      reinterpret_cast<decltype(s.verify_detached)>(dlsym(lib, "crypto_sign_verify_detached"));
  return s.init && s.seed_keypair && s.sign_detached && s.verify_detached && s.init() >= 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 3000;
  Sodium sodium{};
  if (!LoadSodium(sodium)) {
    std::printf("# libsodium (libsodium.so.23) not found: nothing to compare\n");
    return 0;
  }
  std::array<uint8_t, 32> seed{};
  pedigree::RandomBytes(seed);
  PrivateKey key = PrivateKey::FromSeed(seed).value();
  PublicKey pub = key.public_key();
  std::array<unsigned char, 32> pk{};
  std::array<unsigned char, 64> sk{};
  sodium.seed_keypair(pk.data(), sk.data(), seed.data());
  if (!std::equal(pk.begin(), pk.end(), pub.raw().begin())) {
    std::printf("# ERROR: the libraries derive different public keys from one seed\n");
    return 1;
  }
  // Dispense payloads as the node signs them (prefix + canonical JSON, ~300 bytes).
  std::vector<std::string> messages;
  for (int i = 0; i < n; ++i) {
    messages.push_back(
        "pedigree/entry/v1\n{\"clientId\":\"node-" + std::to_string(i) +
        "\",\"epcs\":[\"https://id.gs1.org/01/09506000134352/21/T0N" + std::to_string(i) +
        "\"],\"kind\":\"decommission\",\"location\":\"4000001000005\",\"org\":\"ph1\","
        "\"status\":\"supplied\",\"time\":\"2026-11-21T08:00:00Z\",\"v\":1}");
  }
  std::vector<Bytes> ossl(n);
  std::vector<std::array<unsigned char, 64>> sod(n);
  double c0 = CpuSeconds();
  for (int i = 0; i < n; ++i) ossl[i] = key.Sign(messages[i]);
  double c1 = CpuSeconds();
  for (int i = 0; i < n; ++i) {
    sodium.sign_detached(sod[i].data(), nullptr,
                         reinterpret_cast<const unsigned char*>(messages[i].data()),
                         messages[i].size(), sk.data());
  }
  double c2 = CpuSeconds();
  int ossl_ok = 0, sod_ok = 0, identical = 0;
  for (int i = 0; i < n; ++i) ossl_ok += pub.Verify(messages[i], sod[i]).has_value();
  double c3 = CpuSeconds();
  for (int i = 0; i < n; ++i) {
    sod_ok += sodium.verify_detached(ossl[i].data(),
                                     reinterpret_cast<const unsigned char*>(messages[i].data()),
                                     messages[i].size(), pk.data()) == 0;
  }
  double c4 = CpuSeconds();
  for (int i = 0; i < n; ++i)
    identical += std::equal(sod[i].begin(), sod[i].end(), ossl[i].begin());
  std::printf(
      "# %d messages of %zu bytes; identical signatures %d/%d; OpenSSL verified %d of "
      "libsodium's, libsodium verified %d of OpenSSL's\n",
      n, messages[0].size(), identical, n, ossl_ok, sod_ok);
  const double ossl_sign = (c1 - c0) / n * 1e6, sod_sign = (c2 - c1) / n * 1e6;
  const double ossl_verify = (c3 - c2) / n * 1e6, sod_verify = (c4 - c3) / n * 1e6;
  using pedigree::bench::Report;
  Report("Ed25519 sign, libsodium", sod_sign, "us CPU", ">= 2x faster than OpenSSL to switch",
         "OpenSSL 3.0 EVP " + std::to_string(ossl_sign).substr(0, 5) +
             " us: " + std::to_string(ossl_sign / sod_sign).substr(0, 4) + "x");
  Report("Ed25519 verify, libsodium", sod_verify, "us CPU", ">= 2x faster than OpenSSL to switch",
         "OpenSSL 3.0 EVP " + std::to_string(ossl_verify).substr(0, 5) +
             " us: " + std::to_string(ossl_verify / sod_verify).substr(0, 4) + "x");
  return identical == n && ossl_ok == n && sod_ok == n ? 0 : 1;
}
