// Evidence for moving raw Ed25519 sign/verify from OpenSSL 3.0 to libsodium (2.3x faster
// signing here, see bench/ed25519_backends.cpp): both produce byte-identical signatures
// (RFC 8032 is deterministic) and verify each other's. libsodium is loaded at run time
// (Debian's libsodium23); without it the case is skipped, not passed.
#include <dlfcn.h>

#include <array>
#include <boost/test/unit_test.hpp>
#include <string>

#include "pedigree/ledger/bytes.h"
#include "pedigree/ledger/keys.h"

namespace {

using pedigree::ledger::PrivateKey;

struct Sodium {
  int (*init)() = nullptr;
  int (*seed_keypair)(unsigned char*, unsigned char*, const unsigned char*) = nullptr;
  int (*sign_detached)(unsigned char*, unsigned long long*, const unsigned char*,
                       unsigned long long, const unsigned char*) = nullptr;
  int (*verify_detached)(const unsigned char*, const unsigned char*, unsigned long long,
                         const unsigned char*) = nullptr;
};

const Sodium* LoadedSodium() {
  static const Sodium* loaded = []() -> const Sodium* {
    void* lib = dlopen("libsodium.so.23", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return nullptr;
    static Sodium s;
    s.init = reinterpret_cast<decltype(s.init)>(dlsym(lib, "sodium_init"));
    s.seed_keypair =
        reinterpret_cast<decltype(s.seed_keypair)>(dlsym(lib, "crypto_sign_seed_keypair"));
    s.sign_detached =
        reinterpret_cast<decltype(s.sign_detached)>(dlsym(lib, "crypto_sign_detached"));
    s.verify_detached =
        reinterpret_cast<decltype(s.verify_detached)>(dlsym(lib, "crypto_sign_verify_detached"));
    if (!s.init || !s.seed_keypair || !s.sign_detached || !s.verify_detached || s.init() < 0)
      return nullptr;
    return &s;
  }();
  return loaded;
}

boost::test_tools::assertion_result SodiumAvailable(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result r(LoadedSodium() != nullptr);
  r.message() << "libsodium.so.23 is not installed";
  return r;
}

const unsigned char* Data(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(keys_libsodium)

BOOST_AUTO_TEST_CASE(openssl_and_libsodium_signatures_are_identical_and_cross_verify,
                     *boost::unit_test::precondition(SodiumAvailable)) {
  const Sodium& sodium = *LoadedSodium();
  for (int k = 0; k < 4; ++k) {
    std::array<uint8_t, 32> seed{};
    pedigree::RandomBytes(seed);
    PrivateKey key = PrivateKey::FromSeed(seed).value();
    std::array<unsigned char, 32> pk{};
    std::array<unsigned char, 64> sk{};
    BOOST_REQUIRE(sodium.seed_keypair(pk.data(), sk.data(), seed.data()) == 0);
    BOOST_TEST(pedigree::ToHex(pk) == pedigree::ToHex(key.public_key().raw()));
    // Empty, short, dispense-sized and long messages.
    for (size_t size : {0u, 1u, 300u, 5000u}) {
      std::string message(size, '\0');
      for (size_t i = 0; i < size; ++i) message[i] = static_cast<char>((i * 131 + k) & 0xff);
      pedigree::Bytes ours = key.Sign(message);
      std::array<unsigned char, 64> theirs{};
      BOOST_REQUIRE(sodium.sign_detached(theirs.data(), nullptr, Data(message), message.size(),
                                         sk.data()) == 0);
      BOOST_TEST(pedigree::ToHex(ours) == pedigree::ToHex(theirs));
      BOOST_TEST(key.public_key().Verify(message, theirs).has_value());
      BOOST_TEST(sodium.verify_detached(ours.data(), Data(message), message.size(), pk.data()) ==
                 0);
      // And both refuse the same tampering.
      ours[5] ^= 0x20;
      BOOST_TEST(sodium.verify_detached(ours.data(), Data(message), message.size(), pk.data()) ==
                 -1);
      BOOST_TEST(key.public_key().Verify(message, ours).error().code() == "crypto.bad_signature");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
