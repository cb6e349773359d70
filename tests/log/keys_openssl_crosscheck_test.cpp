// PrivateKey signs and PublicKey verifies through libsodium; keys and PEM go through
// OpenSSL, and every other party (Go auditors, `openssl pkeyutl`) checks with OpenSSL-like
// verifiers. These cases hold the two libraries to the same bytes: RFC 8032 is
// deterministic, so signatures must be identical, and each must verify the other's. Where
// they differ on purpose (libsodium's strict checks), the difference is pinned down here.
#include <openssl/evp.h>

#include <array>
#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>

#include "pedigree/base/bytes.h"
#include "pedigree/log/keys.h"
#include "rfc8032_vectors.h"

using namespace pedigree;
using namespace pedigree::log;

namespace {

Bytes Hex(std::string_view hex) { return FromHex(hex).value(); }

using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

// A fresh OpenSSL 3.0 EVP one-shot Ed25519 signature, independent of pedigree's code.
Bytes OpenSslSign(std::span<const uint8_t> seed, std::span<const uint8_t> message) {
  Pkey pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()),
            EVP_PKEY_free);
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  BOOST_REQUIRE(pkey && ctx);
  BOOST_REQUIRE(EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1);
  Bytes sig(64);
  size_t len = sig.size();
  BOOST_REQUIRE(EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) == 1);
  BOOST_REQUIRE(len == 64u);
  return sig;
}

bool OpenSslVerifies(std::span<const uint8_t> pub, std::span<const uint8_t> message,
                     std::span<const uint8_t> sig) {
  Pkey pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pub.data(), pub.size()),
            EVP_PKEY_free);
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  BOOST_REQUIRE(pkey && ctx);
  BOOST_REQUIRE(EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1);
  return EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), message.data(), message.size()) == 1;
}

// The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian.
constexpr std::string_view kGroupOrderHex =
    "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";

// The signature with S replaced by S + L: the same point equation, a non-canonical scalar.
Bytes WithNonCanonicalS(const Bytes& sig) {
  Bytes order = Hex(kGroupOrderHex);
  Bytes out = sig;
  unsigned carry = 0;
  for (size_t i = 0; i < 32; ++i) {
    unsigned sum = out[32 + i] + order[i] + carry;
    out[32 + i] = static_cast<uint8_t>(sum);
    carry = sum >> 8;
  }
  BOOST_REQUIRE(carry == 0u);  // S < L < 2^253, so S + L < 2^256
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(keys_openssl_crosscheck)

// RFC 8032 §7.1 TEST 1, 2 and 3 (seed, public key, message, signature as printed there).
BOOST_AUTO_TEST_CASE(rfc8032_signatures_are_identical_to_openssl_and_to_the_rfc) {
  for (const auto& v : pedigree::testing::Rfc8032Vectors()) {
    PrivateKey key = PrivateKey::FromSeed(Hex(v.seed)).value();
    BOOST_TEST(ToHex(key.public_key().raw()) == v.pub);
    Bytes message = Hex(v.message);
    Bytes ours = key.Sign(message);
    BOOST_TEST(ToHex(ours) == v.signature);
    BOOST_TEST(ToHex(ours) == ToHex(OpenSslSign(Hex(v.seed), message)));
    BOOST_TEST(OpenSslVerifies(Hex(v.pub), message, ours));
    BOOST_TEST(key.public_key().Verify(message, Hex(v.signature)).has_value());
  }
}

BOOST_AUTO_TEST_CASE(random_keys_and_messages_sign_identically_and_cross_verify) {
  for (int k = 0; k < 4; ++k) {
    std::array<uint8_t, kEd25519SeedSize> seed{};
    RandomBytes(seed);
    PrivateKey key = PrivateKey::FromSeed(seed).value();
    const PublicKey pub = key.public_key();
    // Empty, one byte, dispense-sized, and longer than one SHA-512 block many times over.
    for (size_t size : {0u, 1u, 212u, 5000u}) {
      Bytes message(size);
      RandomBytes(message);
      Bytes ours = key.Sign(message);
      Bytes theirs = OpenSslSign(seed, message);
      BOOST_TEST(ToHex(ours) == ToHex(theirs), "size " << size);
      BOOST_TEST(OpenSslVerifies(pub.raw(), message, ours), "size " << size);
      BOOST_TEST(pub.Verify(message, theirs).has_value(), "size " << size);
      // Both refuse the same one-bit tamper.
      theirs[5] ^= 0x20;
      BOOST_TEST(!OpenSslVerifies(pub.raw(), message, theirs));
      BOOST_TEST(pub.Verify(message, theirs).error().code() == "crypto.bad_signature");
    }
  }
}

BOOST_AUTO_TEST_CASE(key_from_openssl_pem_signs_like_openssl) {
  std::array<uint8_t, kEd25519SeedSize> seed{};
  RandomBytes(seed);
  PrivateKey original = PrivateKey::FromSeed(seed).value();
  PrivateKey loaded = PrivateKey::FromPem(original.ToPem()).value();
  const std::string message = "pedigree/entry/v1\n{\"kind\":\"dispense\"}";
  BOOST_TEST(ToHex(loaded.Sign(message)) == ToHex(OpenSslSign(seed, AsBytes(message))));
}

// Strictness, as docs/threat-model.md states it: anything Verify accepts, OpenSSL and Go
// accept too, but not the reverse. Two forgeries that a lax verifier may take:
// - the identity point 0100…00 as public key (small order) with R = identity and S = 0:
//   [S]B = R + [k]A holds for every message, so it "signs" anything;
// - a genuine signature with S replaced by S + L (RFC 8032 §5.1.7 requires S < L).
BOOST_AUTO_TEST_CASE(small_order_key_and_non_canonical_s_are_rejected) {
  const Bytes identity = Hex("0100000000000000000000000000000000000000000000000000000000000000");
  Bytes universal(64, 0);
  universal[0] = 0x01;  // R = identity, S = 0
  const std::string message = "dispense 0123";
  auto weak = PublicKey::FromRaw(identity);
  BOOST_REQUIRE(weak.has_value());
  BOOST_TEST(weak->Verify(message, universal).error().code() == "crypto.bad_signature");
  BOOST_TEST(weak->Verify("another message", universal).error().code() == "crypto.bad_signature");
  // Not asserted (a library's choice, free to tighten): what OpenSSL 3.0 says.
  BOOST_TEST_MESSAGE("OpenSSL accepts the small-order forgery: " << OpenSslVerifies(
                         identity, AsBytes(message), universal));

  PrivateKey key = PrivateKey::FromSeed(Bytes(32, 0x42)).value();
  Bytes sig = key.Sign(message);
  BOOST_REQUIRE(key.public_key().Verify(message, sig).has_value());
  Bytes malleated = WithNonCanonicalS(sig);
  BOOST_TEST(key.public_key().Verify(message, malleated).error().code() == "crypto.bad_signature");
  BOOST_TEST_MESSAGE("OpenSSL accepts S + L: " << OpenSslVerifies(key.public_key().raw(),
                                                                  AsBytes(message), malleated));
}

BOOST_AUTO_TEST_SUITE_END()
