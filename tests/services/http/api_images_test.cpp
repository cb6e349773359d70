// The image endpoints over a real socket: POST /v1/scan and POST /v1/verify with PNG and
// JPEG bodies rendered by the label renderer (and composed into photo-like frames), and
// every refusal of a bad body as a coded 4xx. Also the DecodePool's bounds, and
// GET /v1/labels/pack: a pack's label for its manufacturer only, read back by the decoder.
#include <boost/test/unit_test.hpp>
#include <latch>
#include <set>
#include <thread>

#include "common/result.h"
#include "common/temp_dir.h"
#include "http_client.h"
#include "pedigree/http/api.h"
#include "pedigree/http/decode_pool.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/scanner/label.h"
#include "pedigree/usecases/image_scan.h"
#include "pedigree/usecases/token_grants.h"
#include "scanner/synthetic_image.h"

using namespace pedigree;
using namespace pedigree::services;
using pedigree::services::testing::CodeOf;
using pedigree::services::testing::Exchange;
using pedigree::services::testing::Reply;
using pedigree::services::testing::Send;
namespace synthetic = pedigree::scanner::synthetic;

namespace {

const std::string kGtin = "09506000134352";
const std::string kMfgGln = "9506000000008", kPh1Gln = "4000001000005", kMfg2Gln = "4000002000004";

std::string AsString(const Bytes& b) { return std::string(b.begin(), b.end()); }

scanner::Image Label(const std::string& serial) {
  return scanner::RenderPackLabel(kGtin, "280331", "LOT1", serial, {4, 2}).value();
}

std::string Png(const scanner::Image& image) { return AsString(scanner::EncodePng(image).value()); }
std::string Jpeg(const scanner::Image& image) {
  return AsString(scanner::EncodeJpeg(image, 92).value());
}

// A 1280x720 camera-like frame: the labels pasted on a cluttered background, blurred and
// noisy, as a phone photo of packs on a counter.
scanner::Image Photo(const std::vector<scanner::Image>& labels, uint64_t seed = 13) {
  synthetic::Rng rng(seed);
  scanner::Image scene = synthetic::ClutteredBackground(1280, 720, rng);
  for (size_t i = 0; i < labels.size(); ++i) {
    synthetic::Paste(scene, labels[i], 150 + 420 * static_cast<int>(i),
                     120 + 180 * static_cast<int>(i));
  }
  return synthetic::AddNoise(synthetic::Blur(scene, 1, 1), 3, rng);
}

class ImageApi {
 public:
  ImageApi() {
    node_ = SupplyNode::Create(tmp_ / "ledger", "example.org/image-test", authority_.public_key())
                .value();
    node_->SetClock([] { return int64_t{1'795'300'000}; });
    Register("mfg", "manufacturer", "9506000", kMfgGln);
    Register("ph1", "dispenser", "4000001", kPh1Gln);
    Register("mfg2", "manufacturer", "4000002", kMfg2Gln);
    Submit("mfg", {{"kind", "product.register"}, {"gtin", kGtin}, {"name", "Examplamab"}});
    auto batch = Object(
        {{"kind", "batch.register"}, {"gtin", kGtin}, {"lot", "LOT1"}, {"expiry", "2028-03-31"}});
    batch.set("quantity", JsonValue(int64_t{10}));
    BOOST_REQUIRE(node_->SubmitAs("mfg", batch).has_value());
    auto commission =
        Object({{"kind", "commission"}, {"gtin", kGtin}, {"lot", "LOT1"}, {"location", kMfgGln}});
    auto serials = JsonValue::Array();
    for (const char* s : {"S1", "S2"}) serials.push_back(JsonValue(s));
    commission.set("serials", serials);
    BOOST_REQUIRE(node_->SubmitAs("mfg", commission).has_value());

    tokens_ = TokenStore::Open(tmp_ / "tokens.db").value();
    token_["mfg"] = tokens_->Issue("mfg", {"manufacturer"}, "test").value();
    token_["ph1"] = tokens_->Issue("ph1", {"dispenser"}, "test").value();
    token_["mfg2"] = tokens_->Issue("mfg2", {"manufacturer"}, "test").value();
    Router router;
    ApiOptions options{"4000009000007"};
    options.image_decoders = 2;
    BOOST_REQUIRE(AddApiRoutes(router, *node_, options).has_value());
    ServerConfig config;
    config.threads = 4;
    config.granted_roles = RegistryGrants(*node_, "");
    server_ = HttpServer::Start(config, std::move(router), tokens_.get()).value();
    session_ = std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", server_->port());
  }

  static JsonValue Object(std::initializer_list<std::pair<std::string, std::string>> members) {
    auto o = JsonValue::Object();
    for (const auto& [k, v] : members) o.set(k, JsonValue(v));
    return o;
  }
  void Submit(const std::string& org,
              std::initializer_list<std::pair<std::string, std::string>> members) {
    BOOST_REQUIRE(node_->SubmitAs(org, Object(members)).has_value());
  }
  void Register(const std::string& id, const std::string& role, const std::string& prefix,
                const std::string& gln) {
    log::PrivateKey key = log::PrivateKey::Generate();
    BOOST_REQUIRE(node_->HoldKey(id, key).has_value());
    auto index = node_->RegisterOrg(
        authority_, {id, id, {role}, {prefix}, {gln}, ToBase64(key.public_key().raw())});
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
  }

  Reply Post(const std::string& target, const std::string& body, const std::string& type,
             const std::string& org = "mfg") {
    std::map<std::string, std::string> headers{{"Authorization", "Bearer " + token_[org]}};
    if (!type.empty()) headers["Content-Type"] = type;
    return Exchange(*session_, Send{"POST", target, body, headers});
  }
  Reply Get(const std::string& target, const std::string& org = "mfg") {
    return Exchange(*session_,
                    Send{"GET", target, "", {{"Authorization", "Bearer " + token_[org]}}});
  }
  static JsonValue Body(const Reply& r) { return pedigree::ParseJson(r.body).value(); }
  static std::string ErrorCode(const Reply& r) {
    auto b = pedigree::ParseJson(r.body);
    if (!b || !b->find("error")) return "";
    return b->find("error")->find("code")->as_string();
  }

  SupplyNode& node() { return *node_; }

 private:
  pedigree::testing::TempDir tmp_;
  log::PrivateKey authority_ = log::PrivateKey::Generate();
  std::map<std::string, std::string> token_;
  std::unique_ptr<SupplyNode> node_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
};

std::string PackId(const std::string& serial) {
  return "https://id.gs1.org/01/" + kGtin + "/21/" + serial;
}

// The verdicts of a POST /v1/verify answer, by pack id.
std::map<std::string, JsonValue> Verdicts(const JsonValue& body) {
  std::map<std::string, JsonValue> out;
  for (const JsonValue& s : body.find("symbols")->as_array()) {
    if (const JsonValue* v = s.find("verdict")) out[v->find("packId")->as_string()] = *v;
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_images)

BOOST_AUTO_TEST_CASE(scan_answers_every_symbol_as_pedigree_scan_prints_it) {
  ImageApi api;
  Reply r = api.Post("/v1/scan", Png(Label("S1")), "image/png");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
  const JsonValue symbols = ImageApi::Body(r);
  BOOST_REQUIRE(symbols.size() == 1u);
  const JsonValue& s = symbols.as_array()[0];
  BOOST_TEST(s.find("format")->as_string() == "DataMatrix");
  BOOST_TEST(s.find("symbologyIdentifier")->as_string() == "]d2");
  BOOST_TEST(s.find("corners")->size() == 4u);
  BOOST_TEST(s.find("gs1")->find("packId")->as_string() == PackId("S1"));
  BOOST_TEST(s.find("gs1")->find("expiry")->as_string() == "2028-03-31");
  // The same renderer as the CLI: the symbol's JSON is DecodedSymbolJson of the decode.
  auto decoded = scanner::DecodeImage(Label("S1"), ScanDecodeOptions()).value();
  BOOST_REQUIRE(decoded.size() == 1u);
  BOOST_TEST(Canonicalize(s) == Canonicalize(DecodedSymbolJson(decoded[0])));
}

BOOST_AUTO_TEST_CASE(label_png_and_jpeg_verify_verified) {
  ImageApi api;
  for (const auto& [type, body] : {std::pair{std::string("image/png"), Png(Label("S1"))},
                                   {std::string("image/jpeg"), Jpeg(Label("S1"))}}) {
    Reply r = api.Post("/v1/verify", body, type);
    BOOST_REQUIRE_MESSAGE(r.status == 200, type << ": " << r.body);
    const JsonValue answer = ImageApi::Body(r);
    BOOST_TEST(answer.find("packs")->as_int() == 1);
    auto verdicts = Verdicts(answer);
    BOOST_REQUIRE(verdicts.count(PackId("S1")) == 1u);
    BOOST_TEST(verdicts[PackId("S1")].find("verified")->as_bool(), type);
    // The same verdict object as GET /v1/verify gives for the code.
    auto expected = api.node().Verify("]d201" + kGtin + "17280331" + "10LOT1\x1d" + "21S1", "mfg");
    BOOST_REQUIRE(expected.has_value());
    BOOST_TEST(Canonicalize(verdicts[PackId("S1")]) ==
               Canonicalize(VerifyAnswerJson(*expected, api.node().Now())));
  }
}

BOOST_AUTO_TEST_CASE(photo_with_two_packs_gives_two_verdicts) {
  ImageApi api;
  Reply r = api.Post("/v1/verify", Jpeg(Photo({Label("S1"), Label("S9")})), "image/jpeg");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
  const JsonValue answer = ImageApi::Body(r);
  BOOST_TEST(answer.find("packs")->as_int() == 2);
  auto verdicts = Verdicts(answer);
  BOOST_REQUIRE(verdicts.size() == 2u);
  BOOST_TEST(verdicts[PackId("S1")].find("verified")->as_bool());
  // S9 was never commissioned: NOT VERIFIED, with its reason.
  BOOST_TEST(!verdicts[PackId("S9")].find("verified")->as_bool());
  BOOST_TEST(verdicts[PackId("S9")].find("status")->as_string() == "unknown");
}

BOOST_AUTO_TEST_CASE(verify_lists_only_symbologies_that_can_carry_a_pack_scan_lists_all) {
  // An EAN-13 holds a GTIN alone, never a pack: POST /v1/verify does not search for it
  // (VerifyDecodeOptions), POST /v1/scan still lists it.
  ImageApi api;
  scanner::Image sheet = synthetic::Blank(900, 400);
  synthetic::Paste(sheet, Label("S1"), 150, 120);
  synthetic::Paste(sheet, scanner::RenderEan13("9506000134352", 60).value(), 400, 100);
  const std::string photo = Png(sheet);
  Reply verify = api.Post("/v1/verify", photo, "image/png");
  BOOST_REQUIRE_MESSAGE(verify.status == 200, verify.body);
  const JsonValue answer = ImageApi::Body(verify);
  BOOST_TEST(answer.find("packs")->as_int() == 1);
  for (const auto& s : answer.find("symbols")->as_array()) {
    BOOST_TEST(s.find("format")->as_string() != "EAN13");
  }
  Reply scan = api.Post("/v1/scan", photo, "image/png");
  BOOST_REQUIRE_MESSAGE(scan.status == 200, scan.body);
  const JsonValue scanned = ImageApi::Body(scan);
  std::set<std::string> formats;
  for (const auto& s : scanned.as_array()) {
    formats.insert(s.find("format")->as_string());
  }
  BOOST_TEST(formats.count("EAN13") == 1u);
  BOOST_TEST(formats.count("DataMatrix") == 1u);
}

BOOST_AUTO_TEST_CASE(recorded_image_verify_writes_one_verify_event_per_pack) {
  ImageApi api;
  const uint64_t before = api.node().ledger().size();
  Reply missing = api.Post("/v1/verify?record=true", Png(Label("S1")), "image/png");
  BOOST_TEST(missing.status == 400);
  BOOST_TEST(ImageApi::ErrorCode(missing) == "request.missing_parameter");
  Reply r = api.Post("/v1/verify?record=true&location=" + kMfgGln,
                     Png(Photo({Label("S1"), Label("S2")})), "image/png");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
  auto verdicts = Verdicts(ImageApi::Body(r));
  BOOST_REQUIRE(verdicts.size() == 2u);
  BOOST_TEST(api.node().ledger().size() == before + 2);
  for (const auto& [id, v] : verdicts) {
    BOOST_REQUIRE(v.find("recordedIndex"));
    auto entry = ParseJson(api.node().ledger().Entry(v.find("recordedIndex")->as_int()).value());
    BOOST_TEST(entry->find("payload")->find("kind")->as_string() == "verify");
    BOOST_TEST(entry->find("payload")->find("epcs")->as_array()[0].as_string() == id);
  }
}

BOOST_AUTO_TEST_CASE(non_gs1_qr_code_is_reported_not_a_500) {
  ImageApi api;
  const std::string qr = Png(scanner::RenderQrCode("hello, world").value());
  Reply scan = api.Post("/v1/scan", qr, "image/png");
  BOOST_REQUIRE_MESSAGE(scan.status == 200, scan.body);
  const JsonValue symbols = ImageApi::Body(scan);
  BOOST_REQUIRE(symbols.size() == 1u);
  BOOST_TEST(symbols.as_array()[0].find("format")->as_string() == "QRCode");
  BOOST_TEST(symbols.as_array()[0].find("content")->as_string() == "hello, world");
  Reply verify = api.Post("/v1/verify", qr, "image/png");
  BOOST_REQUIRE_MESSAGE(verify.status == 200, verify.body);
  const JsonValue answer = ImageApi::Body(verify);
  BOOST_TEST(answer.find("packs")->as_int() == 0);
  const JsonValue* not_a_pack = answer.find("symbols")->as_array()[0].find("notAPack");
  BOOST_REQUIRE(not_a_pack);
  BOOST_TEST(not_a_pack->find("code")->as_string().starts_with("gs1."));
  // A QR code holding a GS1 Digital Link URI is a pack code.
  Reply link =
      api.Post("/v1/verify", Png(scanner::RenderQrCode(PackId("S1")).value()), "image/png");
  BOOST_REQUIRE_MESSAGE(link.status == 200, link.body);
  BOOST_TEST(Verdicts(ImageApi::Body(link))[PackId("S1")].find("verified")->as_bool());
}

BOOST_AUTO_TEST_CASE(bad_bodies_are_coded_4xx) {
  ImageApi api;
  const std::string png = Png(Label("S1"));
  struct Case {
    std::string name, target, body, type;
    int status;
    std::string code;
  };
  // A PNG whose header claims 10000x5000 pixels (50 MP, over the 40 MP limit).
  std::string huge = Png(synthetic::Blank(16, 16));
  for (int i : {0, 1}) {
    const uint32_t v = i == 0 ? 10000 : 5000;
    for (int b = 0; b < 4; ++b) huge[16 + 4 * i + b] = static_cast<char>(v >> (24 - 8 * b));
  }
  const std::vector<Case> cases = {
      {"wrong content type", "/v1/scan", png, "text/plain", 415, "request.unsupported_media_type"},
      {"gif declared", "/v1/scan", png, "image/gif", 415, "request.unsupported_media_type"},
      {"png sent as jpeg", "/v1/scan", png, "image/jpeg", 415, "image.type_mismatch"},
      {"text sent as png", "/v1/verify", "hello", "image/png", 415, "image.type_mismatch"},
      {"json to verify", "/v1/verify", "{}", "application/json", 415,
       "request.unsupported_media_type"},
      {"truncated png", "/v1/scan", png.substr(0, png.size() / 2), "image/png", 400,
       "image.unreadable"},
      {"over-limit dimensions", "/v1/verify", huge, "image/png", 413, "image.too_large"},
      {"empty body", "/v1/scan", "", "image/png", 400, "image.empty"},
      {"empty body to verify", "/v1/verify", "", "image/jpeg", 400, "image.empty"},
      {"no symbol", "/v1/verify", Png(synthetic::Blank(64, 64)), "image/png", 422,
       "image.no_symbol"},
  };
  for (const Case& c : cases) {
    Reply r = api.Post(c.target, c.body, c.type);
    BOOST_TEST(r.status == c.status, c.name << ": " << r.body);
    BOOST_TEST(ImageApi::ErrorCode(r) == c.code, c.name << ": " << r.body);
  }
  // The pixel limit names the limit and the value.
  const JsonValue e = *ImageApi::Body(api.Post("/v1/scan", huge, "image/png")).find("error");
  BOOST_TEST(e.find("limit")->as_int() == scanner::LoadLimits{}.max_pixels);
  BOOST_TEST(e.find("value")->as_int() == 50'000'000);
  // No symbol is not an error for a scan: an empty list.
  Reply none = api.Post("/v1/scan", Png(synthetic::Blank(64, 64)), "image/png");
  BOOST_TEST(none.status == 200);
  BOOST_TEST(none.body == "[]");
}

BOOST_AUTO_TEST_CASE(the_byte_limit_is_the_cli_one) {
  const scanner::LoadLimits limits{.max_pixels = 40'000'000, .max_bytes = 100};
  const std::string png = Png(Label("S1"));
  BOOST_REQUIRE(png.size() > 100u);
  auto checked = CheckImageBody("image/png", png, limits);
  BOOST_REQUIRE(!checked.has_value());
  BOOST_TEST(checked.error().code() == "image.too_large");
  auto loaded = scanner::LoadImageMemory(AsBytes(png), limits);
  BOOST_REQUIRE(!loaded.has_value());
  BOOST_TEST(loaded.error().code() == "image.too_large");
  BOOST_TEST(loaded.error().message().find("limit 100") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(decode_pool_refuses_when_full_and_drops_abandoned_work) {
  DecodePool pool(1, 1);
  std::latch started(1), release(1);
  Result<int> first = 0;
  std::thread t([&] {
    first = pool.Run<int>(
        [&]() -> Result<int> {
          started.count_down();
          release.wait();
          return 1;
        },
        std::chrono::hours(1));
  });
  started.wait();
  // The worker is busy: a task queues, and its caller stops waiting at its time limit;
  // the abandoned task gives its queue place back.
  bool abandoned_ran = false;
  auto late = pool.Run<int>(
      [&]() -> Result<int> {
        abandoned_ran = true;
        return 2;
      },
      std::chrono::milliseconds(0));
  BOOST_TEST(CodeOf(late) == "image.busy");
  BOOST_TEST(pool.queued() == 0u);
  // A patient task takes the one queue place ...
  Result<int> waiting = 0;
  std::thread w(
      [&] { waiting = pool.Run<int>([]() -> Result<int> { return 3; }, std::chrono::hours(1)); });
  while (pool.queued() == 0) std::this_thread::yield();
  // ... so the next is refused at once.
  auto full = pool.Run<int>([]() -> Result<int> { return 5; }, std::chrono::hours(1));
  BOOST_TEST(CodeOf(full) == "image.busy");
  BOOST_TEST(full.error().message().find("waiting") != std::string::npos);
  release.count_down();
  t.join();
  w.join();
  BOOST_TEST(first.value() == 1);
  BOOST_TEST(waiting.value() == 3);
  // The abandoned task never ran; the next one runs.
  auto next = pool.Run<int>([]() -> Result<int> { return 4; }, std::chrono::hours(1));
  BOOST_TEST(next.value() == 4);
  BOOST_TEST(!abandoned_ran);
}

BOOST_AUTO_TEST_CASE(pack_label_is_a_png_its_manufacturer_gets_and_the_decoder_reads_back) {
  ImageApi api;
  Reply r = api.Get("/v1/labels/pack/" + kGtin + "/S2");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
  BOOST_TEST(r.headers["Content-Type"] == "image/png");
  auto image = scanner::LoadImageMemory(AsBytes(r.body));
  BOOST_REQUIRE_MESSAGE(image.has_value(), pedigree::testing::Why(image));
  auto symbols = scanner::DecodeImage(*image, ScanDecodeOptions()).value();
  BOOST_REQUIRE(symbols.size() == 1u);
  // GTIN, the batch's expiry, lot and serial as the ledger has them.
  BOOST_TEST(symbols[0].raw == "]d201" + kGtin + "17280331" + "10LOT1\x1d" + "21S2");
  // A larger module makes a larger image of the same code.
  Reply big = api.Get("/v1/labels/pack/" + kGtin + "/S2?module=8");
  BOOST_REQUIRE_MESSAGE(big.status == 200, big.body);
  auto big_image = scanner::LoadImageMemory(AsBytes(big.body)).value();
  BOOST_TEST(big_image.width > image->width);
  BOOST_TEST(scanner::DecodeImage(big_image, ScanDecodeOptions()).value().at(0).raw ==
             symbols[0].raw);
}

BOOST_AUTO_TEST_CASE(pack_label_refusals_are_coded_and_tell_no_one_else_which_packs_exist) {
  ImageApi api;
  // Another manufacturer's request answers exactly as for a pack that does not exist.
  Reply other = api.Get("/v1/labels/pack/" + kGtin + "/S1", "mfg2");
  BOOST_TEST(other.status == 404);
  BOOST_TEST(ImageApi::ErrorCode(other) == "pack.not_found");
  Reply unknown = api.Get("/v1/labels/pack/" + kGtin + "/NOPE");
  BOOST_TEST(unknown.status == 404);
  BOOST_TEST(ImageApi::ErrorCode(unknown) == "pack.not_found");
  // A pharmacy prints no labels.
  Reply pharmacy = api.Get("/v1/labels/pack/" + kGtin + "/S1", "ph1");
  BOOST_TEST(pharmacy.status == 403);
  BOOST_TEST(ImageApi::ErrorCode(pharmacy) == "auth.forbidden_role");
  for (const char* module : {"0", "17", "-4", "4px", "", "99999999999"}) {
    Reply bad = api.Get("/v1/labels/pack/" + kGtin + "/S1?module=" + module);
    BOOST_TEST_INFO("module=" << module);
    BOOST_TEST(bad.status == 400);
    BOOST_TEST(ImageApi::ErrorCode(bad) == "request.bad_parameter");
    auto body = ImageApi::Body(bad);
    BOOST_TEST(body.find("error")->find("field")->as_string() == "module");
    BOOST_TEST(body.find("error")->find("message")->as_string().find("'" + std::string(module) +
                                                                     "'") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
