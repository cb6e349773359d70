#include "pedigree/log/keys.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "common/temp_dir.h"
#include "rfc8032_vectors.h"

using namespace pedigree;
using namespace pedigree::log;

using pedigree::testing::TempDir;

namespace {

Bytes Hex(std::string_view hex) { return FromHex(hex).value(); }

void WriteFile(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(keys)

// RFC 8032 §7.1, TEST 1, 2 and 3.
BOOST_AUTO_TEST_CASE(rfc8032_vectors_sign_and_verify) {
  for (const auto& v : pedigree::testing::Rfc8032Vectors()) {
    auto key = PrivateKey::FromSeed(Hex(v.seed));
    BOOST_REQUIRE(key.has_value());
    BOOST_TEST(ToHex(key->public_key().raw()) == v.pub);
    Bytes message = Hex(v.message);
    BOOST_TEST(ToHex(key->Sign(message)) == v.signature);
    auto pub = PublicKey::FromRaw(Hex(v.pub));
    BOOST_REQUIRE(pub.has_value());
    BOOST_TEST(pub->Verify(message, Hex(v.signature)).has_value());
  }
}

BOOST_AUTO_TEST_CASE(tampered_message_or_signature_fails_with_bad_signature) {
  PrivateKey key = PrivateKey::Generate();
  PublicKey pub = key.public_key();
  Bytes sig = key.Sign("dispense 0123");
  BOOST_TEST(pub.Verify("dispense 0123", sig).has_value());
  BOOST_TEST(pub.Verify("dispense 0124", sig).error().code() == "crypto.bad_signature");
  Bytes flipped = sig;
  flipped[10] ^= 0x01;
  BOOST_TEST(pub.Verify("dispense 0123", flipped).error().code() == "crypto.bad_signature");
  Bytes short_sig(sig.begin(), sig.begin() + 63);
  BOOST_TEST(pub.Verify("dispense 0123", short_sig).error().code() == "crypto.bad_signature");
  PublicKey other = PrivateKey::Generate().public_key();
  BOOST_TEST(other.Verify("dispense 0123", sig).error().code() == "crypto.bad_signature");
  BOOST_TEST(PublicKey().Verify("dispense 0123", sig).error().code() == "crypto.bad_signature");
}

BOOST_AUTO_TEST_CASE(public_key_from_raw_requires_32_bytes) {
  BOOST_TEST(PublicKey::FromRaw(Bytes(31)).error().code() == "key.malformed");
  BOOST_TEST(PublicKey::FromRaw(Bytes(33)).error().code() == "key.malformed");
  BOOST_TEST(PrivateKey::FromSeed(Bytes(16)).error().code() == "key.malformed");
}

BOOST_AUTO_TEST_CASE(fingerprint_is_hex_of_first_8_bytes_of_sha256_of_raw_key) {
  // RFC 8032 TEST 1 public key;
  // echo d75a98...511a | xxd -r -p | sha256sum | cut -c1-16
  auto pub =
      PublicKey::FromRaw(Hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
  BOOST_REQUIRE(pub.has_value());
  Hash h = Sha256(pub->raw());
  BOOST_TEST(pub->Fingerprint() == ToHex(std::span<const uint8_t>(h.data(), 8)));
  BOOST_TEST(pub->Fingerprint().size() == 16u);
}

BOOST_AUTO_TEST_CASE(public_key_pem_round_trips) {
  PrivateKey key = PrivateKey::Generate();
  std::string pem = key.public_key().ToPem();
  BOOST_TEST(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
  auto back = PublicKey::FromPem(pem);
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST((*back == key.public_key()));
  BOOST_TEST(PublicKey::FromPem("nonsense").error().code() == "key.malformed");
}

BOOST_AUTO_TEST_CASE(private_key_pem_file_round_trips_with_mode_0600) {
  TempDir dir;
  std::string path = dir.file("org.pem");
  PrivateKey key = PrivateKey::Generate();
  BOOST_REQUIRE(key.SavePem(path).has_value());
  struct stat st;
  BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  auto loaded = PrivateKey::LoadPem(path);
  if (!loaded) BOOST_FAIL(loaded.error().ToString());
  BOOST_TEST((loaded->public_key() == key.public_key()));
  BOOST_TEST(ToHex(loaded->Sign("x")) == ToHex(key.Sign("x")));
}

BOOST_AUTO_TEST_CASE(save_pem_refuses_to_overwrite) {
  TempDir dir;
  std::string path = dir.file("org.pem");
  BOOST_REQUIRE(PrivateKey::Generate().SavePem(path).has_value());
  auto second = PrivateKey::Generate().SavePem(path);
  BOOST_REQUIRE(!second.has_value());
  BOOST_TEST(second.error().code() == "key.exists");
}

BOOST_AUTO_TEST_CASE(load_pem_refuses_bad_files_with_specific_codes) {
  TempDir dir;
  PrivateKey key = PrivateKey::Generate();
  std::string pem = key.ToPem();

  BOOST_TEST(PrivateKey::LoadPem(dir.file("missing.pem")).error().code() == "key.not_found");

  const std::pair<mode_t, std::string> modes[] = {
      {0644, "key.insecure_permissions"},
      {0640, "key.insecure_permissions"},
      {0604, "key.insecure_permissions"},
      {0620, "key.insecure_permissions"},
      {0600, ""},
      {0400, ""},
  };
  int n = 0;
  for (const auto& [mode, code] : modes) {
    std::string path = dir.file("k" + std::to_string(n++) + ".pem");
    WriteFile(path, pem, mode);
    auto r = PrivateKey::LoadPem(path);
    if (code.empty()) {
      BOOST_TEST(r.has_value(), std::oct << mode);
    } else {
      BOOST_REQUIRE(!r.has_value());
      BOOST_TEST(r.error().code() == code, std::oct << mode);
    }
  }

  std::string garbage = dir.file("garbage.pem");
  WriteFile(garbage, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 0600);
  BOOST_TEST(PrivateKey::LoadPem(garbage).error().code() == "key.malformed");

  // An X25519 key is valid PKCS#8 but not a signing key.
  EVP_PKEY* x25519 = EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519");
  BOOST_REQUIRE(x25519 != nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, x25519, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string wrong = dir.file("x25519.pem");
  WriteFile(wrong, std::string(data, static_cast<size_t>(len)), 0600);
  BIO_free(bio);
  EVP_PKEY_free(x25519);
  BOOST_TEST(PrivateKey::LoadPem(wrong).error().code() == "key.wrong_type");
}

BOOST_AUTO_TEST_CASE(one_public_key_verifies_concurrently_from_many_threads) {
  PrivateKey key = PrivateKey::Generate();
  PublicKey pub = key.public_key();
  Bytes sig = key.Sign("batch 42");
  Bytes bad = sig;
  bad[0] ^= 0x80;
  std::atomic<int> good{0}, rejected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        PublicKey copy = pub;  // copies share the EVP_PKEY
        if (copy.Verify("batch 42", sig)) ++good;
        if (!pub.Verify("batch 42", bad)) ++rejected;
        (void)key.Sign("concurrent signing is allowed too");
      }
    });
  }
  for (auto& t : threads) t.join();
  BOOST_TEST(good.load() == 200);
  BOOST_TEST(rejected.load() == 200);
}

BOOST_AUTO_TEST_CASE(signatures_from_many_threads_equal_ones_from_fresh_keys) {
  // One key signs from many threads at once; Ed25519 is deterministic, so every signature
  // must equal the one a fresh key object makes.
  std::array<uint8_t, kEd25519SeedSize> seed{};
  seed[0] = 7;
  PrivateKey shared = PrivateKey::FromSeed(seed).value();
  std::vector<std::string> messages;
  for (int i = 0; i < 40; ++i) messages.push_back("dispense " + std::to_string(i));
  std::vector<std::string> expected;
  for (const auto& m : messages) expected.push_back(ToHex(PrivateKey::FromSeed(seed)->Sign(m)));
  std::atomic<int> same{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 3; ++round) {
        for (size_t i = 0; i < messages.size(); ++i) {
          if (ToHex(shared.Sign(messages[i])) == expected[i]) ++same;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  BOOST_TEST(same.load() == 4 * 3 * 40);
  // A moved-to key keeps signing.
  PrivateKey moved = std::move(shared);
  BOOST_TEST(ToHex(moved.Sign(messages[0])) == expected[0]);
}

BOOST_AUTO_TEST_SUITE_END()
