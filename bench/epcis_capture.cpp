// EPCIS capture end to end durable (issue 15, "Performance"): a 10,000-event EPCIS 2.0
// document POSTed to /v1/epcis/capture over a real loopback socket, the job followed until it
// has finished; events/s = 10,000 / (POST sent → job finished, every event committed).
// Target: >= 5,000 events/s and >= 0.5 x the signed-ingest rate measured in the same run.
//
// The document is what a manufacturer's serialisation system sends at the end of a shift, all
// valid: 5,000 commissionings (one pack each), 500 packs decommissioned (250 samples, 250
// destroyed), 2,250 aggregations of two packs into a case, and 2,250 shipments of one case each
// to one of two wholesalers (the parties named by GLN, so the capture resolves them through the
// registry). Three captures per round: JSON-LD with GS1-Capture-Error-Behaviour rollback (one
// ledger transaction), JSON-LD with proceed (event by event), and the XML binding of the same
// events with rollback.
//
// Reference, interleaved in every round: the signed-ingest rate of the same pedigree commands
// (another document's events mapped beforehand, outside the clock) through SupplyNode::SubmitAs
// from 16 threads, as bench_supply measures node-signed ingest, in three waves that respect the
// order the rules need (commissions; decommissions and aggregations; shipments).
//
// usage: bench_epcis_capture [--rounds N (default 3)] [--events N (default 10000, a multiple of
//        20)]
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/base/time.h"
#include "pedigree/http/api.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/scanner/epcis.h"
#include "pedigree/scanner/epcis_xml.h"
#include "pedigree/usecases/supply_node.h"
#include "pedigree/usecases/token_grants.h"

namespace {

namespace fs = std::filesystem;
using namespace pedigree;
using namespace pedigree::services;
using pedigree::JsonValue;
using pedigree::bench::Must;
using pedigree::bench::Stopwatch;

std::string WithCheckDigit(const std::string& body) {
  return body + std::to_string(provenance::Gs1CheckDigit(body));
}
std::string Gln(const std::string& prefix) {
  return WithCheckDigit(prefix + std::string(12 - prefix.size(), '0'));
}

const std::string kMakerPrefix = "9506001";
const std::string kGtin = WithCheckDigit("0950600100001");
const std::string kLot = "CAP1";
const char* const kWholesalers[] = {"whs1", "whs2"};
const char* const kWholesalerPrefixes[] = {"4012345", "4012346"};

std::string Pack(const std::string& tag, size_t i) {
  return "https://id.gs1.org/01/" + kGtin + "/21/" + tag + "-" + std::to_string(i);
}
// An SSCC of the maker's prefix: extension digit, prefix, a 9-digit serial reference.
std::string Case(size_t tag_number, size_t i) {
  char ref[32];
  std::snprintf(ref, sizeof ref, "%02zu%07zu", tag_number % 100, i);
  return "https://id.gs1.org/00/" + WithCheckDigit("0" + kMakerPrefix + ref);
}

// The document of `events` events (a multiple of 20) whose serials start with `tag` and whose
// cases are numbered from `tag_number`; event times `now` - 30 minutes onward, a second apart
// per kind so that each wave follows the one it needs.
JsonValue ShiftDocument(const std::string& tag, size_t tag_number, size_t events, int64_t now) {
  const size_t packs = events / 2, removed = events / 20, cases = (events - packs - removed) / 2;
  const std::string maker_gln = Gln(kMakerPrefix);
  auto at = [&](int64_t offset) { return FormatUtcTime(now - 1800 + offset); };
  auto location = [](const std::string& gln) {
    return JsonValue::Object().set("id", "https://id.gs1.org/414/" + gln);
  };
  JsonValue list = JsonValue::Array();
  for (size_t i = 0; i < packs; ++i) {
    list.push_back(JsonValue::Object()
                       .set("type", "ObjectEvent")
                       .set("eventTime", at(0))
                       .set("eventTimeZoneOffset", "+00:00")
                       .set("epcList", JsonValue::Array().push_back(Pack(tag, i)))
                       .set("action", "ADD")
                       .set("bizStep", "commissioning")
                       .set("disposition", "active")
                       .set("readPoint", location(maker_gln))
                       .set("bizLocation", location(maker_gln))
                       .set("ilmd", JsonValue::Object().set("cbvmda:lotNumber", kLot)));
  }
  // The last packs: quality samples and destroyed packs.
  for (size_t i = 0; i < removed; ++i) {
    const bool sample = i % 2 == 0;
    JsonValue e = JsonValue::Object()
                      .set("type", "ObjectEvent")
                      .set("eventTime", at(60))
                      .set("eventTimeZoneOffset", "+00:00")
                      .set("epcList", JsonValue::Array().push_back(Pack(tag, packs - 1 - i)))
                      .set("action", "OBSERVE")
                      .set("bizStep", sample ? "decommissioning" : "destroying")
                      .set("disposition", sample ? "non_sellable_other" : "destroyed")
                      .set("bizLocation", location(maker_gln));
    if (sample) e.set("pedigree:status", "sample");
    list.push_back(std::move(e));
  }
  for (size_t c = 0; c < cases; ++c) {
    list.push_back(
        JsonValue::Object()
            .set("type", "AggregationEvent")
            .set("eventTime", at(120))
            .set("eventTimeZoneOffset", "+00:00")
            .set("parentID", Case(tag_number, c))
            .set("childEPCs",
                 JsonValue::Array().push_back(Pack(tag, 2 * c)).push_back(Pack(tag, 2 * c + 1)))
            .set("action", "ADD")
            .set("bizStep", "packing")
            .set("disposition", "in_progress")
            .set("bizLocation", location(maker_gln)));
  }
  for (size_t c = 0; c < cases; ++c) {
    const std::string to = Gln(kWholesalerPrefixes[c % 2]);
    const std::string advice = tag + "-DA-" + std::to_string(c);
    list.push_back(
        JsonValue::Object()
            .set("type", "ObjectEvent")
            .set("eventTime", at(180))
            .set("eventTimeZoneOffset", "+00:00")
            .set("epcList", JsonValue::Array().push_back(Case(tag_number, c)))
            .set("action", "OBSERVE")
            .set("bizStep", "shipping")
            .set("disposition", "in_transit")
            .set("bizLocation", location(maker_gln))
            .set(
                "bizTransactionList",
                JsonValue::Array().push_back(
                    JsonValue::Object()
                        .set("type", "desadv")
                        .set("bizTransaction", "urn:epcglobal:cbv:bt:" + maker_gln + ":" + advice)))
            .set("sourceList", JsonValue::Array().push_back(
                                   JsonValue::Object()
                                       .set("type", "owning_party")
                                       .set("source", "https://id.gs1.org/417/" + maker_gln)))
            .set("destinationList",
                 JsonValue::Array()
                     .push_back(JsonValue::Object()
                                    .set("type", "owning_party")
                                    .set("destination", "https://id.gs1.org/417/" + to))
                     .push_back(JsonValue::Object()
                                    .set("type", "location")
                                    .set("destination", "https://id.gs1.org/414/" + to))));
  }
  return JsonValue::Object()
      .set("@context",
           JsonValue::Array()
               .push_back("https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld")
               .push_back(JsonValue::Object().set("pedigree", "urn:pedigree:epcis:")))
      .set("type", "EPCISDocument")
      .set("schemaVersion", "2.0")
      .set("creationDate", FormatUtcTime(now))
      .set("epcisBody", JsonValue::Object().set("eventList", std::move(list)));
}

struct Reply {
  int status = 0;
  std::string body, location;
};

Reply Call(Poco::Net::HTTPClientSession& session, const std::string& method,
           const std::string& target, const std::string& token, const std::string& body = "",
           const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  Poco::Net::HTTPRequest request(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
  request.setKeepAlive(true);
  request.set("Authorization", "Bearer " + token);
  for (const auto& [k, v] : headers) request.set(k, v);
  if (method == "POST") {
    request.setContentLength(static_cast<std::streamsize>(body.size()));
    session.sendRequest(request) << body;
  } else {
    session.sendRequest(request);
  }
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  Reply r;
  Poco::StreamCopier::copyToString(in, r.body);
  r.status = static_cast<int>(response.getStatus());
  r.location = response.get("Location", "");
  return r;
}

// POSTs `doc` for capture with `behaviour` and follows the job until it has finished; returns
// the seconds from sending the POST to the poll that saw the job finished. Every event must
// have been captured.
double Capture(Poco::Net::HTTPClientSession& session, const std::string& token,
               const std::string& doc, const std::string& content_type,
               const std::string& behaviour, size_t events) {
  Stopwatch sw;
  Reply sent = Call(session, "POST", "/v1/epcis/capture", token, doc,
                    {{"Content-Type", content_type}, {"GS1-Capture-Error-Behaviour", behaviour}});
  if (sent.status != 202) {
    std::fprintf(stderr, "bench_epcis_capture: capture answered %d: %s\n", sent.status,
                 sent.body.substr(0, 600).c_str());
    std::exit(1);
  }
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    Reply job = Call(session, "GET", sent.location, token);
    // Cheap check first: the finished status is the only one with finishedAt.
    if (job.status == 200 && job.body.find("\"finishedAt\"") == std::string::npos) continue;
    const double seconds = sw.seconds();
    auto status = ParseJson(job.body);
    const JsonValue* success = status ? status->find("success") : nullptr;
    const JsonValue* results = status ? status->find("events") : nullptr;
    if (job.status != 200 || success == nullptr || !success->as_bool() || results == nullptr ||
        results->size() != events) {
      std::fprintf(stderr, "bench_epcis_capture: the %s job did not capture every event: %s\n",
                   behaviour.c_str(), job.body.substr(0, 1200).c_str());
      std::exit(1);
    }
    return seconds;
  }
}

// The signed-ingest reference: `doc`'s events mapped outside the clock, then submitted as
// node-signed commands from 16 threads in the three waves the rules need.
double SignedIngest(SupplyNode& node, const JsonValue& doc) {
  scanner::epcis::HashOptions options = scanner::epcis::PedigreeHashOptions();
  for (auto& p : scanner::epcis::ContextPrefixes(doc)) options.context.push_back(p);
  const scanner::epcis::GlnOwner owner =
      [&node](std::string_view gln) -> Result<std::optional<std::string>> {
    return node.Read([&](provenance::ProvenanceView& v) { return v.OrgOfGln(gln); });
  };
  std::vector<std::vector<JsonValue>> waves(3);
  for (const JsonValue& e : doc.find("epcisBody")->find("eventList")->as_array()) {
    auto one = Must(scanner::epcis::ImportEvent(e, options, "", owner), "map");
    const std::string kind = one.payload.find("kind")->as_string();
    // Only the pedigree command: the kept EPCIS bytes are capture's own cost.
    JsonValue command = JsonValue::Object();
    for (const auto& [name, value] : one.payload.as_object()) {
      if (name != scanner::epcis::kKeptEventMember && name != scanner::epcis::kKeptContextMember) {
        command.set(name, value);
      }
    }
    waves[kind == "commission" ? 0 : kind == "ship" ? 2 : 1].push_back(std::move(command));
  }
  Stopwatch sw;
  for (auto& wave : waves) {
    std::atomic<size_t> next{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t) {
      threads.emplace_back([&] {
        for (size_t i = next++; i < wave.size(); i = next++) {
          Must(node.SubmitAs("maker", std::move(wave[i])), "signed ingest");
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  return sw.seconds();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 3;
  size_t events = 10'000;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc ||
        (std::strcmp(argv[i], "--rounds") != 0 && std::strcmp(argv[i], "--events") != 0)) {
      std::fprintf(stderr,
                   "usage: bench_epcis_capture [--rounds N (default 3)] [--events N (default "
                   "10000, a multiple of 20)]\n");
      return 2;
    }
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--events") == 0) {
      events = std::max<size_t>(20, std::strtoull(argv[i + 1], nullptr, 10) / 20 * 20);
    }
  }
  const fs::path dir =
      fs::temp_directory_path() / ("pedigree-bench-epcis-capture-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto authority = log::PrivateKey::Generate();
  auto node = Must(SupplyNode::Create((dir / "ledger").string(), "bench.example/epcis-capture",
                                      authority.public_key()),
                   "create");
  struct Org {
    std::string id, role, prefix;
  };
  const std::vector<Org> orgs = {{"maker", "manufacturer", kMakerPrefix},
                                 {kWholesalers[0], "wholesaler", kWholesalerPrefixes[0]},
                                 {kWholesalers[1], "wholesaler", kWholesalerPrefixes[1]}};
  for (const Org& o : orgs) {
    auto key = log::PrivateKey::Generate();
    Must(node->HoldKey(o.id, key), "hold key");
    Must(node->RegisterOrg(
             authority,
             {o.id, o.id, {o.role}, {o.prefix}, {Gln(o.prefix)}, ToBase64(key.public_key().raw())}),
         "register org");
  }
  Must(node->SubmitAs("maker", JsonValue::Object()
                                   .set("kind", "product.register")
                                   .set("gtin", kGtin)
                                   .set("name", "Capturol")),
       "product");
  // Four documents a round, half their events packs.
  Must(node->SubmitAs(
           "maker", JsonValue::Object()
                        .set("kind", "batch.register")
                        .set("gtin", kGtin)
                        .set("lot", kLot)
                        .set("expiry", "2029-12-31")
                        .set("quantity", static_cast<int64_t>((rounds + 1) * 4 * events / 2 + 10))),
       "batch");

  auto tokens = Must(TokenStore::Open((dir / "tokens.db").string()), "tokens");
  const std::string token = Must(tokens->Issue("maker", {"manufacturer"}, "bench"), "token");
  Router router;
  Must(AddApiRoutes(router, *node, ApiOptions{}), "routes");
  ServerConfig config;
  config.threads = 2;
  config.granted_roles = RegistryGrants(*node, "");
  auto server = Must(HttpServer::Start(config, std::move(router), tokens.get()), "server");
  Poco::Net::HTTPClientSession session("127.0.0.1", server->port());
  session.setKeepAlive(true);
  session.setTimeout(Poco::Timespan(600, 0));

  // A small warm-up capture of each kind (page cache, first-use allocations), not counted.
  size_t tag_number = 0;
  auto next_doc = [&](size_t n) {
    ++tag_number;
    return ShiftDocument("R" + std::to_string(tag_number), tag_number, n, node->Now());
  };
  (void)Capture(session, token, Canonicalize(next_doc(200)), "application/ld+json", "rollback",
                200);
  (void)SignedIngest(*node, next_doc(200));

  std::vector<double> rollback, proceed, xml, reference;
  std::vector<double> ratio_rollback, ratio_proceed, ratio_xml;
  double cpu_rollback = 0;
  for (int round = 0; round < rounds; ++round) {
    const std::string json_rollback = Canonicalize(next_doc(events));
    const std::string json_proceed = Canonicalize(next_doc(events));
    const std::string as_xml = Must(scanner::epcis::DocumentToXml(next_doc(events)), "to xml");
    const JsonValue native = next_doc(events);
    const double n = static_cast<double>(events);
    const double cpu0 = bench::ProcessCpuSeconds();
    const double r =
        n / Capture(session, token, json_rollback, "application/ld+json", "rollback", events);
    cpu_rollback += bench::ProcessCpuSeconds() - cpu0;
    const double ref = n / SignedIngest(*node, native);
    const double p =
        n / Capture(session, token, json_proceed, "application/ld+json", "proceed", events);
    const double x = n / Capture(session, token, as_xml, "application/xml", "rollback", events);
    rollback.push_back(r);
    proceed.push_back(p);
    xml.push_back(x);
    reference.push_back(ref);
    ratio_rollback.push_back(r / ref);
    ratio_proceed.push_back(p / ref);
    ratio_xml.push_back(x / ref);
    std::printf(
        "# round %d: rollback %.0f/s, proceed %.0f/s, xml %.0f/s, signed ingest %.0f/s "
        "(ratios %.2f, %.2f, %.2f)\n",
        round + 1, r, p, x, ref, r / ref, p / ref, x / ref);
    std::fflush(stdout);
  }
  std::printf(
      "# document: %zu events, %zu bytes as JSON-LD; %.0f us CPU per event captured "
      "(rollback, client included); log of %llu entries\n",
      events, Canonicalize(next_doc(events)).size(),
      cpu_rollback * 1e6 / (events * static_cast<double>(rounds)),
      static_cast<unsigned long long>(node->ledger().size()));
  const double ref = Median(reference);
  char reference_text[160];
  auto report = [&](const std::string& what, const std::vector<double>& rates,
                    const std::vector<double>& ratios) {
    std::snprintf(reference_text, sizeof reference_text,
                  "signed ingest of the same commands %.0f events/s; ratio %.2f", ref,
                  Median(ratios));
    bench::Report("EPCIS capture of a " + std::to_string(events) + "-event document, " + what +
                      ", end to end durable (median of " + std::to_string(rounds) + " rounds)",
                  Median(rates), "events/s", ">= 5000 events/s and >= 0.5 x reference",
                  reference_text, 0);
  };
  report("JSON-LD, rollback", rollback, ratio_rollback);
  report("JSON-LD, proceed", proceed, ratio_proceed);
  report("XML, rollback", xml, ratio_xml);
  server.reset();
  node.reset();
  fs::remove_all(dir);
  return 0;
}
