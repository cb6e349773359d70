// Uses an installed pedigree: a Merkle leaf hash and an inclusion proof, an RFC 8032
// signature (libsodium, linked through pedigree::log), and a GS1 DataMatrix rendered,
// read back (ZXing, linked through pedigree::scanner) and parsed. Exits 0 when every
// check passes, 1 with one line per failed check otherwise.
#include <pedigree/base/bytes.h>
#include <pedigree/log/keys.h>
#include <pedigree/log/merkle.h>
#include <pedigree/log/proof.h>
#include <pedigree/scanner/gs1.h>
#include <pedigree/scanner/image.h>
#include <pedigree/scanner/label.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace {

int failures = 0;

void Check(bool ok, std::string_view what) {
  std::printf("%s %.*s\n", ok ? "ok  " : "FAIL", static_cast<int>(what.size()), what.data());
  if (!ok) ++failures;
}

pedigree::Bytes Hex(std::string_view hex) {
  auto bytes = pedigree::FromHex(hex);
  return bytes ? *bytes : pedigree::Bytes{};
}

}  // namespace

int main() {
  using namespace pedigree;

  // RFC 6962 empty leaf: printf '\x00' | sha256sum
  Check(ToHex(log::LeafHash(std::string_view{})) ==
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "LeafHash(\"\") is SHA-256(0x00)");

  const Hash a = log::LeafHash("a"), b = log::LeafHash("b");
  const Hash root = log::NodeHash(a, b);
  const std::vector<Hash> proof = {b};
  Check(log::VerifyInclusion(0, 2, a, proof, root).has_value(), "leaf 0 of 2 is included");
  Hash wrong = root;
  wrong[0] ^= 1;
  auto refused = log::VerifyInclusion(0, 2, a, proof, wrong);
  Check(!refused && refused.error().code() == "merkle.root_mismatch",
        "a root with one bit flipped is merkle.root_mismatch");

  // RFC 8032 §7.1 TEST 1 (empty message).
  auto key = log::PrivateKey::FromSeed(
      Hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  Check(key.has_value(), "RFC 8032 TEST 1 seed makes a key");
  if (key) {
    Bytes signature = key->Sign(std::string_view{});
    Check(ToHex(signature) ==
              "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
              "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
          "RFC 8032 TEST 1 signature");
    Check(key->public_key().Verify(std::string_view{}, signature).has_value(),
          "the signature verifies");
    signature[10] ^= 1;
    auto bad = key->public_key().Verify(std::string_view{}, signature);
    Check(!bad && bad.error().code() == "crypto.bad_signature",
          "a signature with one bit flipped is crypto.bad_signature");
  }

  // GS1's example GTIN, expiry 2026-03-31, lot LOT42, serial SER1.
  const std::string elements =
      "0109506000134352"
      "17260331"
      "10LOT42\x1d"
      "21SER1";
  auto symbol = scanner::RenderDataMatrix(elements);
  Check(symbol.has_value(), "RenderDataMatrix");
  if (symbol) {
    scanner::DecodeOptions options;
    options.formats = {scanner::Symbology::kDataMatrix};
    auto read = scanner::DecodeImage(*symbol, options);
    Check(read && read->size() == 1 && (*read)[0].raw == "]d2" + elements,
          "DecodeImage reads the DataMatrix back as ]d2 + the element string");
    if (read && !read->empty()) {
      auto data = scanner::ParseGs1((*read)[0].raw);
      Check(data && data->gtin() && data->gtin()->str() == "09506000134352" && data->serial() &&
                data->serial()->str() == "SER1",
            "ParseGs1 finds GTIN 09506000134352 and serial SER1");
    }
  }

  if (failures) std::printf("%d check(s) failed\n", failures);
  return failures ? 1 : 0;
}
