// HTTP handlers of the clinical-trial and kit endpoints: parse the request, call the
// TrialWorkflow use case, render JSON. The rules are the ledger's (trial_state.cpp,
// kit_state.cpp); the records and salts stay in the sponsor's store. docs/api.md,
// "Clinical trials".
#include <sys/mman.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "api_common.h"
#include "api_receipts.h"
#include "api_scope.h"
#include "pedigree/http/api.h"
#include "pedigree/http/witness_client.h"
#include "pedigree/log/note.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/provenance/trial_seal.h"
#include "pedigree/provenance/trial_view.h"
#include "pedigree/reports/receipt.h"
#include "pedigree/scanner/gs1.h"
#include "pedigree/scanner/trial_data.h"
#include "pedigree/usecases/trial_workflow.h"

namespace pedigree::services {
namespace {

using api::BodyObject;
using api::Int;
using api::Json;
using api::RequiredQuery;

struct TrialApi {
  SupplyNode& node;
  TrialWorkflow workflow;
  SponsorStore* store;
};

Result<std::string> RequiredString(const JsonValue& body, const std::string& name,
                                   const std::string& field) {
  const JsonValue* v = body.find(name);
  if (!v) {
    return Fail(Error("request.missing_field", "'" + field + "' is required").at_field(field));
  }
  if (!v->is_string()) {
    return Fail(Error("request.invalid_body", "'" + field + "' must be a string").at_field(field));
  }
  return v->as_string();
}

std::string OptionalQuery(const HttpRequest& req, const std::string& name) {
  auto it = req.query.find(name);
  return it == req.query.end() ? std::string() : it->second;
}

// The Part 11 manifestation from a body's `signature` {name, meaning}; the signing
// organisation is the token's. Whether name and meaning are acceptable is the ledger's
// rule (trial.bad_signature); here only their presence is checked.
Result<TrialSigner> SignerFromBody(const HttpRequest& req, const JsonValue& body) {
  const JsonValue* sig = body.find("signature");
  if (!sig) {
    return Fail(Error("request.missing_field",
                      "the Part 11 signature manifestation 'signature': {\"name\": printed name, "
                      "\"meaning\": authorship|review|approval|responsibility} is required")
                    .at_field("signature"));
  }
  if (!sig->is_object()) {
    return Fail(Error("request.invalid_body", "'signature' must be an object {name, meaning}")
                    .at_field("signature"));
  }
  PEDIGREE_ASSIGN(name, RequiredString(*sig, "name", "signature.name"));
  PEDIGREE_ASSIGN(meaning, RequiredString(*sig, "meaning", "signature.meaning"));
  return TrialSigner{req.principal->org_id, *name, *meaning};
}

// The manifestation of an upload, whose body is the file: query signatureName and
// signatureMeaning.
Result<TrialSigner> SignerFromQuery(const HttpRequest& req) {
  auto name = req.query.find("signatureName");
  auto meaning = req.query.find("signatureMeaning");
  for (const auto& [it, field] :
       {std::pair{name, "signatureName"}, {meaning, "signatureMeaning"}}) {
    if (it == req.query.end() || it->second.empty()) {
      return Fail(Error("request.missing_parameter",
                        std::string("the Part 11 signature manifestation needs parameter '") +
                            field + "' (the body is the dataset file)")
                      .at_field(field));
    }
  }
  return TrialSigner{req.principal->org_id, name->second, meaning->second};
}

// A copy of `body` without the members in `drop`.
JsonValue Without(const JsonValue& body, std::initializer_list<std::string_view> drop) {
  JsonValue copy = JsonValue::Object();
  for (const auto& [k, v] : body.as_object()) {
    if (std::find(drop.begin(), drop.end(), k) == drop.end()) copy.set(k, v);
  }
  return copy;
}

// The kit id a scanned code names, in canonical GS1 Digital Link form.
Result<std::string> KitIdFromCode(std::string_view code, const std::string& field) {
  auto data = scanner::ParseGs1(code);
  if (!data) return std::unexpected(data.error().at_field(field));
  auto pack = data->pack_id();
  if (!pack) {
    return Fail(Error("scan.not_a_pack", "the code names no kit (01+21)").at_field(field));
  }
  return pack->DigitalLinkUri();
}

using Shape = std::function<Status(const HttpRequest&, JsonValue&)>;

// A trial.* or kit.* event signed by this node with the key of the token's organisation:
// the trial id comes from the path ({id}) or the body (`trialId`), the manifestation from
// `signature`, the client id from the Idempotency-Key header; `shape` adjusts the payload.
HttpHandler TrialCommand(std::shared_ptr<TrialApi> api, std::string kind, Shape shape = {}) {
  return [api, kind, shape](const HttpRequest& req) -> HttpResponse {
    auto body = api::CommandBody(req);
    if (!body) return ErrorResponse(body.error());
    auto signer = SignerFromBody(req, *body);
    if (!signer) return ErrorResponse(signer.error());
    std::string trial_id;
    if (auto it = req.path_params.find("id"); it != req.path_params.end()) {
      trial_id = it->second;
      const JsonValue* given = body->find("trialId");
      if (given && !(given->is_string() && given->as_string() == trial_id)) {
        return ErrorResponse(
            Error("request.invalid_body",
                  "'trialId' in the body differs from the path's '" + trial_id + "'; leave it out")
                .at_field("trialId"));
      }
    } else {
      auto id = RequiredString(*body, "trialId", "trialId");
      if (!id) return ErrorResponse(id.error());
      trial_id = *id;
    }
    JsonValue payload = Without(*body, {"signature", "trialId"});
    if (shape) {
      if (auto ok = shape(req, payload); !ok) return ErrorResponse(ok.error());
    }
    auto index = api->workflow.Submit(*signer, kind, trial_id, std::move(payload));
    if (!index) return ErrorResponse(index.error());
    return api::Created(*index, kind);
  };
}

// `document` (the protocol text, hashed here) or `protocolHash`, not both.
Status ProtocolHash(const HttpRequest&, JsonValue& p) {
  const JsonValue* document = p.find("document");
  if (!document) {
    if (!p.find("protocolHash")) {
      return Fail(Error("request.missing_field",
                        "give the protocol as 'document' (its text) or 'protocolHash' (hex)")
                      .at_field("document"));
    }
    return Ok();
  }
  if (p.find("protocolHash")) {
    return Fail(Error("request.invalid_body", "give 'document' or 'protocolHash', not both")
                    .at_field("protocolHash"));
  }
  if (!document->is_string() || document->as_string().empty()) {
    return Fail(Error("request.invalid_body", "'document' must be the non-empty protocol text")
                    .at_field("document"));
  }
  std::string hash = ToHex(Sha256(document->as_string()));
  p = Without(p, {"document"});
  p.set("protocolHash", JsonValue(hash));
  return Ok();
}

// `code` (any scanner form of one kit's barcode) becomes `kits`.
Status KitsFromCode(const HttpRequest&, JsonValue& p) {
  const JsonValue* code = p.find("code");
  if (!code) return Ok();
  if (!code->is_string())
    return Fail(Error("request.invalid_body", "code must be a string").at_field("code"));
  if (p.find("kits"))
    return Fail(Error("request.invalid_body", "give 'code' or 'kits', not both").at_field("code"));
  PEDIGREE_ASSIGN(kit, KitIdFromCode(code->as_string(), "code"));
  p = Without(p, {"code"});
  p.set("kits", JsonValue::Array().push_back(JsonValue(*kit)));
  return Ok();
}

// A media type without parameters or spaces, in lower case.
std::string MediaType(std::string type) {
  type = type.substr(0, type.find(';'));
  type.erase(std::remove_if(type.begin(), type.end(), [](unsigned char c) { return c == ' '; }),
             type.end());
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type;
}

// The dataset in `body`, parsed by its media type; every record's STUDYID must be the
// trial id. Parse errors carry the line and column in the file.
Result<scanner::Dataset> ParseDataset(const HttpRequest& req, const std::string& type,
                                      std::string_view body, const std::string& trial_id,
                                      const std::string& type_field = "Content-Type") {
  scanner::TrialParseOptions options;
  options.domain = OptionalQuery(req, "domain");
  options.expected_study_id = trial_id;
  Result<scanner::Dataset> dataset;
  if (type == "text/csv") {
    dataset = scanner::ParseCsv(body, options);
  } else if (type == "application/json") {
    dataset = scanner::ParseDatasetJson(body, options);
  } else if (type == "application/x-ndjson") {
    dataset = scanner::ParseDatasetNdjson(body, options);
  } else {
    return Fail(Error("request.unsupported_media_type",
                      "a dataset is text/csv, application/json (Dataset-JSON) or "
                      "application/x-ndjson, not '" +
                          type + "'")
                    .at_field(type_field));
  }
  return dataset;
}

// An upload's bytes: HttpRequest::body, or its spooled file mapped read-only, so that the
// file is paged from disk rather than copied into the heap.
class BodyBytes {
 public:
  static Result<BodyBytes> Of(const HttpRequest& req) {
    BodyBytes b;
    if (!req.spooled_body || req.spooled_body->size() == 0) {
      b.view_ = req.body;
      return b;
    }
    const size_t size = static_cast<size_t>(req.spooled_body->size());
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, req.spooled_body->fd(), 0);
    if (p == MAP_FAILED) {
      return Fail(Error("storage.io", "cannot map the spooled request body: " +
                                          std::string(std::strerror(errno))));
    }
    // Read front to back once: the kernel may read ahead and drop what was read.
    ::madvise(p, size, MADV_SEQUENTIAL);
    b.map_ = p;
    b.view_ = std::string_view(static_cast<const char*>(p), size);
    return b;
  }
  BodyBytes(BodyBytes&& o) noexcept
      : view_(std::exchange(o.view_, {})), map_(std::exchange(o.map_, nullptr)) {}
  BodyBytes& operator=(BodyBytes&&) = delete;
  ~BodyBytes() {
    if (map_ != nullptr) ::munmap(map_, view_.size());
  }
  std::string_view view() const { return view_; }

 private:
  BodyBytes() = default;
  std::string_view view_;
  void* map_ = nullptr;
};

Result<scanner::Dataset> DatasetFromBody(const HttpRequest& req, std::string_view bytes,
                                         const std::string& trial_id) {
  std::string type;
  if (auto it = req.headers.find("content-type"); it != req.headers.end()) type = it->second;
  return ParseDataset(req, MediaType(type), bytes, trial_id);
}

// The media type of a dataset upload that names its records' subjects (docs/api.md,
// "Dataset uploads with subjects"): {"subjects": {USUBJID: subjectRef}, "contentType":
// the file's media type, "data": the file's text}.
constexpr std::string_view kSubmissionType = "application/vnd.pedigree.submission+json";

struct Upload {
  scanner::Dataset dataset;
  // USUBJID -> subjectRef, when the upload carries the mapping.
  std::shared_ptr<std::map<std::string, std::string>> subjects;
};

Result<std::shared_ptr<std::map<std::string, std::string>>> SubjectMap(const JsonValue& body) {
  const JsonValue* v = body.find("subjects");
  if (!v) {
    return Fail(
        Error("request.missing_field", "'subjects' ({USUBJID: subjectRef}) is required in a " +
                                           std::string(kSubmissionType) + " upload")
            .at_field("subjects"));
  }
  if (!v->is_object()) {
    return Fail(Error("request.invalid_body", "'subjects' must be an object {USUBJID: subjectRef}")
                    .at_field("subjects"));
  }
  auto refs = std::make_shared<std::map<std::string, std::string>>();
  for (const auto& [usubjid, ref] : v->as_object()) {
    if (!ref.is_string() || ref.as_string().empty()) {
      return Fail(Error("request.invalid_body", "'subjects' maps USUBJID '" + usubjid +
                                                    "' to something other than a "
                                                    "non-empty subjectRef string")
                      .at_field("subjects." + usubjid));
    }
    (*refs)[usubjid] = ref.as_string();
  }
  return refs;
}

// The file of an upload: the body itself, or the `data` of a submission envelope with
// the subjects' mapping.
Result<Upload> UploadFromBody(const HttpRequest& req, const std::string& trial_id) {
  std::string type;
  if (auto it = req.headers.find("content-type"); it != req.headers.end()) type = it->second;
  type = MediaType(type);
  PEDIGREE_ASSIGN(bytes, BodyBytes::Of(req));
  if (type != kSubmissionType) {
    PEDIGREE_ASSIGN(dataset, ParseDataset(req, type, bytes->view(), trial_id));
    return Upload{std::move(*dataset), nullptr};
  }
  auto body = ParseJson(bytes->view());
  if (!body) {
    return Fail(Error("request.invalid_json",
                      std::string(kSubmissionType) + " must be JSON: " + body.error().message()));
  }
  if (!body->is_object()) {
    return Fail(
        Error("request.invalid_body",
              std::string(kSubmissionType) + " must be an object {subjects, contentType, data}"));
  }
  PEDIGREE_ASSIGN(subjects, SubjectMap(*body));
  PEDIGREE_ASSIGN(file_type, RequiredString(*body, "contentType", "contentType"));
  PEDIGREE_ASSIGN(data, RequiredString(*body, "data", "data"));
  PEDIGREE_ASSIGN(dataset,
                  ParseDataset(req, MediaType(*file_type), *data, trial_id, "contentType"));
  return Upload{std::move(*dataset), std::move(*subjects)};
}

// What a submission needs besides its file, checked before the file is read (the route's
// scope, sponsor or site, ran first): the signature's manifestation and, when ?domain=
// names the domain, that it is not hard-locked.
Status SubmissionAllowed(SupplyNode& node, const HttpRequest& req) {
  PEDIGREE_TRY(SignerFromQuery(req));
  const std::string domain = OptionalQuery(req, "domain");
  if (domain.empty()) return Ok();
  const std::string& trial_id = req.path_params.at("id");
  PEDIGREE_ASSIGN(view, provenance::TrialView::Open(node.ledger().db_path()));
  PEDIGREE_ASSIGN(state, (*view)->LockState(trial_id, domain));
  if (*state == "hard_lock") {
    // The refusal the ledger gives the submission (trial_state.cpp), before 256 MiB are read.
    return Fail(Error("trial.locked", "domain: " + domain + " of trial '" + trial_id +
                                          "' is hard-locked; unlock it before submitting")
                    .at_field("domain"));
  }
  return Ok();
}

// A file the parser refused is a malformed request: 400 with its position.
HttpResponse ParseRefusal(const Error& e) {
  int status = HttpStatusFor(e);
  return ErrorResponse(status == 415 ? 415 : 400, e);
}

Result<Hash> HashParam(const std::string& hex, const std::string& field) {
  auto h = HashFromHex(hex);
  if (!h) {
    return Fail(Error("request.bad_parameter",
                      "'" + field + "' must be a SHA-256 in 64 hex digits, got '" + hex + "'")
                    .at_field(field));
  }
  return *h;
}

// What a verification needs besides its file, checked before the file is read (the route's
// scope, sponsor or grantee, ran first): a well-formed byteExact and, when ?domain= names
// the domain, the caller's grant for it (a refusal is recorded as VerifyFor records it) and
// a seal to compare with.
Status VerifyAllowed(TrialApi& api, const HttpRequest& req) {
  if (std::string hex = OptionalQuery(req, "byteExact"); !hex.empty()) {
    PEDIGREE_TRY(HashParam(hex, "byteExact"));
  }
  const std::string domain = OptionalQuery(req, "domain");
  if (domain.empty()) return Ok();
  return api.workflow.CheckVerifiable(req.principal->org_id, req.path_params.at("id"), domain);
}

Result<std::vector<std::string>> StringList(const JsonValue& body, const std::string& name) {
  std::vector<std::string> out;
  const JsonValue* v = body.find(name);
  if (!v) return out;
  if (!v->is_array()) {
    return Fail(
        Error("request.invalid_body", "'" + name + "' must be an array of strings").at_field(name));
  }
  for (const auto& item : v->as_array()) {
    if (!item.is_string()) {
      return Fail(Error("request.invalid_body", "'" + name + "' must be an array of strings")
                      .at_field(name));
    }
    out.push_back(item.as_string());
  }
  return out;
}

JsonValue TrialJson(provenance::TrialView& view, const provenance::TrialRecord& t, Error* failure) {
  auto fail = [&](const Error& e) {
    *failure = e;
    return JsonValue();
  };
  auto o = JsonValue::Object();
  o.set("trialId", JsonValue(t.id));
  o.set("registryId", JsonValue(t.registry_id));
  o.set("sponsor", JsonValue(t.sponsor));
  o.set("title", JsonValue(t.title));
  o.set("sites", JsonValue::Strings(t.sites));
  auto arms = JsonValue::Array();
  for (const auto& a : t.arms)
    arms.push_back(
        JsonValue::Object().set("code", JsonValue(a.code)).set("name", JsonValue(a.name)));
  o.set("arms", std::move(arms));
  o.set("index", Int(t.index));
  o.set("time", JsonValue(FormatUtcTime(t.time)));

  auto protocols = view.Protocols(t.id);
  if (!protocols) return fail(protocols.error());
  auto ps = JsonValue::Array();
  for (const auto& p : *protocols) {
    ps.push_back(JsonValue::Object()
                     .set("index", Int(p.index))
                     .set("time", JsonValue(FormatUtcTime(p.time)))
                     .set("protocolHash", JsonValue(p.protocol_hash))
                     .set("version", JsonValue(p.version))
                     .set("primary", JsonValue::Strings(p.primary))
                     .set("secondary", JsonValue::Strings(p.secondary))
                     .set("signature", JsonValue::Object()
                                           .set("org", JsonValue(p.signer_org))
                                           .set("name", JsonValue(p.signer_name))
                                           .set("meaning", JsonValue(p.meaning)))
                     .set("isSeal", JsonValue(p.is_seal))
                     .set("afterFirstEnrolment", JsonValue(p.after_first_enrolment)));
  }
  o.set("protocols", std::move(ps));

  auto enrolled = view.Enrolments(t.id);
  if (!enrolled) return fail(enrolled.error());
  auto e = JsonValue::Object().set("count", JsonValue(enrolled->count));
  if (enrolled->first_index) {
    e.set("firstIndex", Int(*enrolled->first_index));
    e.set("firstTime", JsonValue(FormatUtcTime(enrolled->first_time)));
  }
  o.set("enrolment", std::move(e));

  auto domains = view.Domains(t.id);
  if (!domains) return fail(domains.error());
  auto ds = JsonValue::Array();
  for (const std::string& domain : *domains) {
    auto state = view.LockState(t.id, domain);
    auto locks = view.LockHistory(t.id, domain);
    auto seals = view.Seals(t.id, domain);
    auto redactions = view.Redactions(t.id, domain);
    auto leaves = view.Leaves(t.id, domain);
    if (!state) return fail(state.error());
    if (!locks) return fail(locks.error());
    if (!seals) return fail(seals.error());
    if (!redactions) return fail(redactions.error());
    if (!leaves) return fail(leaves.error());
    auto d = JsonValue::Object();
    d.set("domain", JsonValue(domain));
    d.set("lock", JsonValue(*state));
    d.set("leafCount", Int(leaves->size()));
    auto ls = JsonValue::Array();
    for (const auto& l : *locks) {
      auto x = JsonValue::Object()
                   .set("index", Int(l.index))
                   .set("time", JsonValue(FormatUtcTime(l.time)))
                   .set("action", JsonValue(l.action))
                   .set("signature", JsonValue::Object()
                                         .set("name", JsonValue(l.signer_name))
                                         .set("meaning", JsonValue(l.meaning)));
      if (!l.reason.empty()) x.set("reason", JsonValue(l.reason));
      if (!l.approver.empty()) x.set("approver", JsonValue(l.approver));
      ls.push_back(std::move(x));
    }
    d.set("locks", std::move(ls));
    auto ss = JsonValue::Array();
    for (const auto& s : *seals) {
      ss.push_back(JsonValue::Object()
                       .set("index", Int(s.index))
                       .set("time", JsonValue(FormatUtcTime(s.time)))
                       .set("root", JsonValue(s.root))
                       .set("recordCount", JsonValue(s.record_count))
                       .set("schemaHash", JsonValue(s.schema_hash))
                       .set("algorithm", JsonValue(s.algorithm))
                       .set("signature", JsonValue::Object()
                                             .set("name", JsonValue(s.signer_name))
                                             .set("meaning", JsonValue(s.meaning))));
    }
    d.set("seals", std::move(ss));
    auto rs = JsonValue::Array();
    for (const auto& r : *redactions) {
      rs.push_back(JsonValue::Object()
                       .set("index", Int(r.index))
                       .set("time", JsonValue(FormatUtcTime(r.time)))
                       .set("leaf", JsonValue(r.leaf))
                       .set("reason", JsonValue(r.reason))
                       .set("signature", JsonValue::Object()
                                             .set("name", JsonValue(r.signer_name))
                                             .set("meaning", JsonValue(r.meaning))));
    }
    d.set("redactions", std::move(rs));
    ds.push_back(std::move(d));
  }
  o.set("domains", std::move(ds));
  return o;
}

HttpResponse KitResponse(SupplyNode& node, const std::string& code, const std::string& field) {
  auto kit_id = KitIdFromCode(code, field);
  if (!kit_id) return ErrorResponse(kit_id.error());
  auto view = provenance::TrialView::Open(node.ledger().db_path());
  if (!view) return ErrorResponse(view.error());
  auto kit = (*view)->Kit(*kit_id);
  if (!kit) return ErrorResponse(kit.error());
  if (!*kit) {
    return ErrorResponse(Error("kit.not_found", "no kit " + *kit_id).at_field(field));
  }
  const provenance::KitRecord& k = **kit;
  auto o = JsonValue::Object();
  o.set("kit", JsonValue(k.kit));
  o.set("trialId", JsonValue(k.trial));
  o.set("state", JsonValue(k.state));
  o.set("holder", JsonValue(k.holder));
  if (!k.in_transit_to.empty()) o.set("inTransitTo", JsonValue(k.in_transit_to));
  if (!k.subject_ref.empty()) o.set("subjectRef", JsonValue(k.subject_ref));
  o.set("lot", JsonValue(k.lot));
  o.set("expiry", JsonValue(k.expiry));
  auto history = JsonValue::Array();
  for (uint64_t i : k.history) history.push_back(Int(i));
  o.set("history", std::move(history));
  return Json(200, o);
}

// What of a trial's consents a caller sees (docs/api.md, "Access rules"): its sponsor
// every subject, a site its own subjects, a regulator counts. Participants appear by
// subjectRef only; witness and representative names stay off the API.
enum class ConsentAudience { kSponsor, kSite, kRegulator };

struct ConsentReader {
  std::unique_ptr<provenance::TrialView> view;
  ConsentAudience audience = ConsentAudience::kRegulator;
  std::string site;  // the sites shown: the caller's own for a site, else `site=` or all
};

Result<ConsentReader> OpenConsentReader(SupplyNode& node, const HttpRequest& req) {
  const std::string& id = req.path_params.at("id");
  PEDIGREE_ASSIGN(view, provenance::TrialView::Open(node.ledger().db_path()));
  PEDIGREE_ASSIGN(trial, (*view)->Trial(id));
  if (!*trial) return Fail(Error("trial.not_found", "no trial '" + id + "'").at_field("id"));
  const std::string& org = req.principal->org_id;
  ConsentReader r;
  r.site = OptionalQuery(req, "site");
  if ((*trial)->sponsor == org) {
    r.audience = ConsentAudience::kSponsor;
  } else if (std::find((*trial)->sites.begin(), (*trial)->sites.end(), org) !=
             (*trial)->sites.end()) {
    r.audience = ConsentAudience::kSite;
    if (!r.site.empty() && r.site != org) {
      return Fail(Error("auth.forbidden_org", "a site reads its own subjects only: site '" +
                                                  r.site + "' is not '" + org + "'")
                      .at_field("site"));
    }
    r.site = org;
  }
  r.view = std::move(*view);
  return r;
}

JsonValue SignatureJson(const std::string& name, const std::string& meaning) {
  return JsonValue::Object().set("name", JsonValue(name)).set("meaning", JsonValue(meaning));
}

HttpResponse ConsentFormsResponse(SupplyNode& node, const HttpRequest& req) {
  auto view = provenance::TrialView::Open(node.ledger().db_path());
  if (!view) return ErrorResponse(view.error());
  const std::string& id = req.path_params.at("id");
  auto forms = (*view)->ConsentForms(id);
  if (!forms) return ErrorResponse(forms.error());
  auto list = JsonValue::Array();
  for (const auto& f : *forms) {
    auto scopes = ParseJson(f.scopes_json);
    if (!scopes) return ErrorResponse(scopes.error());
    list.push_back(JsonValue::Object()
                       .set("version", JsonValue(f.version))
                       .set("index", Int(f.index))
                       .set("time", JsonValue(FormatUtcTime(f.time)))
                       .set("documentHash", JsonValue(f.document_hash))
                       .set("country", JsonValue(f.country))
                       .set("language", JsonValue(f.language))
                       .set("ethicsRef", JsonValue(f.ethics_ref))
                       .set("approved", JsonValue(f.approved))
                       .set("effective", JsonValue(f.effective))
                       .set("mandatory", JsonValue(f.mandatory))
                       .set("scopes", std::move(*scopes))
                       .set("signature", SignatureJson(f.signer_name, f.meaning)));
  }
  return Json(
      200, JsonValue::Object().set("trialId", JsonValue(id)).set("consentForms", std::move(list)));
}

// Counts of `items` by the string `key` gives each.
template <typename T, typename Key>
JsonValue CountBy(const std::vector<T>& items, Key key) {
  std::map<std::string, int64_t> counts;
  for (const T& item : items) ++counts[key(item)];
  auto o = JsonValue::Object();
  for (const auto& [k, n] : counts) o.set(k, JsonValue(n));
  return o;
}

HttpResponse ConsentsResponse(SupplyNode& node, const HttpRequest& req) {
  auto reader = OpenConsentReader(node, req);
  if (!reader) return ErrorResponse(reader.error());
  const std::string& id = req.path_params.at("id");
  auto all = reader->view->Consents(id);
  if (!all) return ErrorResponse(all.error());
  std::vector<provenance::ConsentRecord> consents;
  for (auto& c : *all) {
    if (reader->site.empty() || c.site == reader->site) consents.push_back(std::move(c));
  }
  auto o = JsonValue::Object().set("trialId", JsonValue(id));
  if (!reader->site.empty()) o.set("site", JsonValue(reader->site));
  if (reader->audience == ConsentAudience::kRegulator) {
    // Counts only: how many consents, of how many subjects, per site, ICF version and
    // scope granted or declined.
    std::set<std::string> subjects;
    std::map<std::string, int64_t> granted, declined;
    for (const auto& c : consents) {
      subjects.insert(c.subject_ref);
      for (const auto& s : c.granted) ++granted[s];
      for (const auto& s : c.declined) ++declined[s];
    }
    auto counts = [](const std::map<std::string, int64_t>& m) {
      auto x = JsonValue::Object();
      for (const auto& [k, n] : m) x.set(k, JsonValue(n));
      return x;
    };
    o.set("consents", Int(consents.size()));
    o.set("subjects", Int(subjects.size()));
    o.set("bySite", CountBy(consents, [](const auto& c) { return c.site; }));
    o.set("byVersion", CountBy(consents, [](const auto& c) { return c.version; }));
    o.set("scopesGranted", counts(granted));
    o.set("scopesDeclined", counts(declined));
    return Json(200, o);
  }
  auto list = JsonValue::Array();
  for (const auto& c : consents) {
    list.push_back(JsonValue::Object()
                       .set("subjectRef", JsonValue(c.subject_ref))
                       .set("index", Int(c.index))
                       .set("time", JsonValue(FormatUtcTime(c.time)))
                       .set("consentTime", JsonValue(FormatUtcTime(c.consent_time)))
                       .set("icfVersion", JsonValue(c.version))
                       .set("scopesGranted", JsonValue::Strings(c.granted))
                       .set("scopesDeclined", JsonValue::Strings(c.declined))
                       .set("site", JsonValue(c.site))
                       .set("signature", SignatureJson(c.signer_name, c.meaning))
                       .set("witnessed", JsonValue(!c.witness.empty()))
                       .set("representative", JsonValue(!c.representative.empty())));
  }
  o.set("consents", std::move(list));
  return Json(200, o);
}

// not_requested (retain), pending or done.
std::string RedactionStatus(const provenance::WithdrawalRecord& w) {
  if (w.data_choice != "redact") return "not_requested";
  return w.redaction_done() ? "done" : "pending";
}

HttpResponse WithdrawalsResponse(SupplyNode& node, const HttpRequest& req) {
  auto reader = OpenConsentReader(node, req);
  if (!reader) return ErrorResponse(reader.error());
  const std::string& id = req.path_params.at("id");
  auto all = reader->view->Withdrawals(id);
  if (!all) return ErrorResponse(all.error());
  const bool regulator = reader->audience == ConsentAudience::kRegulator;
  auto list = JsonValue::Array();
  for (const auto& w : *all) {
    if (!reader->site.empty() && w.site != reader->site) continue;
    auto x = JsonValue::Object();
    // A regulator checks that each choice was honoured, not whose it was.
    if (!regulator) x.set("subjectRef", JsonValue(w.subject_ref));
    x.set("index", Int(w.index))
        .set("time", JsonValue(FormatUtcTime(w.time)))
        .set("withdrawalTime", JsonValue(FormatUtcTime(w.withdrawal_time)))
        .set("dataChoice", JsonValue(w.data_choice))
        .set("site", JsonValue(w.site))
        .set("signature", SignatureJson(w.signer_name, w.meaning))
        .set("redaction", JsonValue(RedactionStatus(w)))
        .set("leafCount", Int(w.leaves.size()))
        .set("redactedCount", Int(w.redacted));
    if (!regulator) {
      auto leaves = JsonValue::Array();
      for (const auto& l : w.leaves) {
        leaves.push_back(JsonValue::Object()
                             .set("domain", JsonValue(l.domain))
                             .set("leaf", JsonValue(l.leaf))
                             .set("index", Int(l.index))
                             .set("redacted", JsonValue(l.redacted)));
      }
      x.set("leaves", std::move(leaves));
    }
    list.push_back(std::move(x));
  }
  auto o = JsonValue::Object().set("trialId", JsonValue(id));
  if (!reader->site.empty()) o.set("site", JsonValue(reader->site));
  o.set("withdrawals", std::move(list));
  return Json(200, o);
}

// The grant named by the path ({gid}), for trial.revoke_grant.
Status GrantFromPath(const HttpRequest& req, JsonValue& p) {
  const JsonValue* given = p.find("grantId");
  const std::string& gid = req.path_params.at("gid");
  if (given && !(given->is_string() && given->as_string() == gid)) {
    return Fail(Error("request.invalid_body",
                      "'grantId' in the body differs from the path's '" + gid + "'; leave it out")
                    .at_field("grantId"));
  }
  p.set("grantId", JsonValue(gid));
  return Ok();
}

// Grants of a trial: every grant to its sponsor and regulators, its own to a grantee
// (docs/api.md). A regulator sees how many subjects a grant names, not which.
HttpResponse GrantsResponse(SupplyNode& node, const HttpRequest& req) {
  const std::string& id = req.path_params.at("id");
  auto view = provenance::TrialView::Open(node.ledger().db_path());
  if (!view) return ErrorResponse(view.error());
  auto trial = (*view)->Trial(id);
  if (!trial) return ErrorResponse(trial.error());
  if (!*trial)
    return ErrorResponse(Error("trial.not_found", "no trial '" + id + "'").at_field("id"));
  const std::string& org = req.principal->org_id;
  const bool sponsor = (*trial)->sponsor == org;
  const bool regulator = !sponsor && api::IsRegulator(*req.principal);
  auto grants = (*view)->Grants(id);
  if (!grants) return ErrorResponse(grants.error());
  auto accesses = (*view)->Accesses(id);
  if (!accesses) return ErrorResponse(accesses.error());
  const int64_t now = node.Now();
  auto list = JsonValue::Array();
  for (const auto& g : *grants) {
    if (!sponsor && !regulator && g.grantee != org) continue;
    int64_t reads = 0;
    for (const auto& a : *accesses) reads += a.grant_id == g.grant_id && a.outcome == "granted";
    auto x = JsonValue::Object()
                 .set("grantId", JsonValue(g.grant_id))
                 .set("index", Int(g.index))
                 .set("time", JsonValue(FormatUtcTime(g.time)))
                 .set("grantee", JsonValue(g.grantee))
                 .set("purpose", JsonValue(g.purpose))
                 .set("domains", JsonValue::Strings(g.domains))
                 .set("sites", JsonValue::Strings(g.sites));
    if (regulator) {
      x.set("subjectCount", Int(g.subjects.size()));
    } else {
      x.set("subjects", JsonValue::Strings(g.subjects));
    }
    x.set("start", JsonValue(FormatUtcTime(g.start)))
        .set("expiry", JsonValue(FormatUtcTime(g.expiry)))
        .set("validNow", JsonValue(g.valid_at(now)))
        .set("signature", SignatureJson(g.signer_name, g.meaning))
        .set("accesses", Int(reads));
    if (g.revoked_index) {
      auto r = JsonValue::Object()
                   .set("index", Int(*g.revoked_index))
                   .set("time", JsonValue(FormatUtcTime(g.revoked_time)));
      if (!g.revoke_reason.empty()) r.set("reason", JsonValue(g.revoke_reason));
      x.set("revoked", std::move(r));
    } else {
      x.set("revoked", JsonValue());
    }
    list.push_back(std::move(x));
  }
  return Json(200,
              JsonValue::Object().set("trialId", JsonValue(id)).set("grants", std::move(list)));
}

// Page sizes of GET /v1/trials/{id}/accesses.
constexpr int64_t kDefaultAccessPage = 50;
constexpr int64_t kMaxAccessPage = 500;

// A positive integer query parameter at most `max`; `fallback` when absent.
Result<int64_t> PositiveQuery(const HttpRequest& req, const std::string& name, int64_t fallback,
                              int64_t max) {
  auto it = req.query.find(name);
  if (it == req.query.end()) return fallback;
  const std::string& text = it->second;
  int64_t v = 0;
  bool ok = !text.empty() && text.size() <= 18 &&
            std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
  if (ok) v = std::stoll(text);
  if (!ok || v < 1 || v > max) {
    return Fail(Error("request.bad_parameter", "parameter '" + name +
                                                   "' must be an integer from 1 to " +
                                                   std::to_string(max) + ", got '" + text + "'")
                    .at_field(name));
  }
  return v;
}

// The access record of a trial (docs/consent.md "The access record"): its trial.access
// events, granted and refused, newest first, `limit` per page; `before` (the `next` of the
// previous page) continues below that ledger index. Leaves are counted, not listed: which
// records were read is the receipts' business, per subject.
HttpResponse AccessesResponse(SupplyNode& node, const HttpRequest& req) {
  const std::string& id = req.path_params.at("id");
  auto limit = PositiveQuery(req, "limit", kDefaultAccessPage, kMaxAccessPage);
  if (!limit) return ErrorResponse(limit.error());
  auto before = PositiveQuery(req, "before", INT64_MAX, INT64_MAX);
  if (!before) return ErrorResponse(before.error());
  auto view = provenance::TrialView::Open(node.ledger().db_path());
  if (!view) return ErrorResponse(view.error());
  auto accesses = (*view)->Accesses(id);
  if (!accesses) return ErrorResponse(accesses.error());
  auto list = JsonValue::Array();
  std::optional<uint64_t> next;
  for (auto a = accesses->rbegin(); a != accesses->rend(); ++a) {
    if (a->index >= static_cast<uint64_t>(*before)) continue;
    if (static_cast<int64_t>(list.size()) == *limit) {
      next = list.as_array().back().find("index")->as_int();
      break;
    }
    auto x = JsonValue::Object()
                 .set("index", Int(a->index))
                 .set("time", JsonValue(FormatUtcTime(a->time)))
                 .set("reader", JsonValue(a->reader))
                 .set("grantId", JsonValue(a->grant_id))
                 .set("purpose", JsonValue(a->purpose))
                 .set("domain", JsonValue(a->domain))
                 .set("outcome", JsonValue(a->outcome))
                 .set("leafCount", Int(a->leaves.size()));
    if (!a->refusal.empty()) x.set("refusal", JsonValue(a->refusal));
    list.push_back(std::move(x));
  }
  auto o = JsonValue::Object().set("trialId", JsonValue(id)).set("accesses", std::move(list));
  o.set("next", next ? Int(*next) : JsonValue());
  return Json(200, o);
}

// A receipt file's name: the trial's id with anything but letters, digits and '-' as '_'
// (trial ids are the sponsor's and could hold quotes).
std::string ReceiptFileName(const std::string& trial_id) {
  std::string name = "receipt-" + trial_id;
  for (char& c : name) {
    bool plain =
        (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-';
    if (!plain) c = '_';
  }
  return name + ".json";
}

}  // namespace

Status AddTrialRoutes(Router& router, SupplyNode& node, SponsorStore* store,
                      size_t max_dataset_bytes) {
  auto api = std::make_shared<TrialApi>(TrialApi{node, TrialWorkflow(node, store), store});
  const Access sponsors = Access::AnyOf({"sponsor"});
  const Access sites = Access::AnyOf({"site"});
  const Access submitters = Access::AnyOf({"site", "sponsor"});
  const Access readers = Access::AnyOf({"sponsor", "site", "regulator"});
  // Verification and disclosure show record values: the store's owner, and the
  // organisations it granted access (a read without a valid grant is refused and recorded;
  // docs/consent.md "The access record").
  const Access record_readers = Access::AnyOf({"sponsor", "site", "regulator"});
  // On a trial named in the path, only its parties (api_scope.h); for everyone else it
  // does not exist.
  auto of_trial = [&node](const Access& roles, api::TrialParties parties) {
    return roles.Scoped(parties == api::TrialParties::kSponsor ? "trial-sponsor" : "trial",
                        api::TrialScope(node, parties));
  };
  const auto kSponsor = api::TrialParties::kSponsor;
  const auto kParties = api::TrialParties::kSponsorSites;
  auto of_grant = [&node](const Access& roles) {
    return roles.Scoped("trial-grant", api::TrialScope(node, api::TrialParties::kSponsorGrantees));
  };

  PEDIGREE_TRY(router.Add("POST", "/v1/trials", sponsors, TrialCommand(api, "trial.register"),
                          BodyKind::kJson));
  PEDIGREE_TRY(router.Add("POST", "/v1/trials/{id}/protocol", of_trial(sponsors, kSponsor),
                          TrialCommand(api, "trial.protocol", ProtocolHash), BodyKind::kJson));
  PEDIGREE_TRY(router.Add("POST", "/v1/trials/{id}/enrol", of_trial(sites, kParties),
                          TrialCommand(api, "trial.enrol"), BodyKind::kJson));
  PEDIGREE_TRY(router.Add("POST", "/v1/trials/{id}/locks", of_trial(sponsors, kSponsor),
                          TrialCommand(api, "trial.lock"), BodyKind::kJson));
  // Consent (docs/consent.md): the ICF's SHA-256 comes as `documentHash`, hashed by the
  // client from the file.
  PEDIGREE_TRY(router.Add("POST", "/v1/trials/{id}/consent-forms", of_trial(sponsors, kSponsor),
                          TrialCommand(api, "trial.consent_form"), BodyKind::kJson));
  PEDIGREE_TRY(router.Add("POST", "/v1/trials/{id}/consents", of_trial(sites, kParties),
                          TrialCommand(api, "trial.consent"), BodyKind::kJson));
  PEDIGREE_TRY(router.Add("POST", "/v1/trials/{id}/withdrawals", of_trial(sites, kParties),
                          TrialCommand(api, "trial.withdraw"), BodyKind::kJson));
  // Reads (docs/api.md, "Access rules"): subjects by subjectRef only.
  PEDIGREE_TRY(
      router.Add("GET", "/v1/trials/{id}/consent-forms", of_trial(readers, kParties),
                 [api](const HttpRequest& req) { return ConsentFormsResponse(api->node, req); }));
  PEDIGREE_TRY(
      router.Add("GET", "/v1/trials/{id}/consents", of_trial(readers, kParties),
                 [api](const HttpRequest& req) { return ConsentsResponse(api->node, req); }));
  PEDIGREE_TRY(
      router.Add("GET", "/v1/trials/{id}/withdrawals", of_trial(readers, kParties),
                 [api](const HttpRequest& req) { return WithdrawalsResponse(api->node, req); }));
  // Access grants (docs/consent.md "Access grants").
  PEDIGREE_TRY(router.Add("POST", "/v1/trials/{id}/grants", of_trial(sponsors, kSponsor),
                          TrialCommand(api, "trial.grant"), BodyKind::kJson));
  PEDIGREE_TRY(router.Add("POST", "/v1/trials/{id}/grants/{gid}/revoke",
                          of_trial(sponsors, kSponsor),
                          TrialCommand(api, "trial.revoke_grant", GrantFromPath), BodyKind::kJson));
  PEDIGREE_TRY(
      router.Add("GET", "/v1/trials/{id}/grants", of_grant(readers),
                 [api](const HttpRequest& req) { return GrantsResponse(api->node, req); }));
  // The access record: for the sponsor, who answers the reads, and regulators, who audit them.
  PEDIGREE_TRY(
      router.Add("GET", "/v1/trials/{id}/accesses",
                 of_trial(Access::AnyOf({"sponsor", "regulator"}), kSponsor),
                 [api](const HttpRequest& req) { return AccessesResponse(api->node, req); }));
  PEDIGREE_TRY(router.Add(
      "POST", "/v1/trials/{id}/withdrawals/honour", of_trial(sponsors, kSponsor),
      [api](const HttpRequest& req) -> HttpResponse {
        auto body = BodyObject(req);
        if (!body) return ErrorResponse(body.error());
        auto signer = SignerFromBody(req, *body);
        if (!signer) return ErrorResponse(signer.error());
        auto done = api->workflow.HonourWithdrawals(*signer, req.path_params.at("id"));
        if (!done) return ErrorResponse(done.error());
        return Json(200, JsonValue::Object().set("redacted", Int(*done)));
      },
      BodyKind::kJson));

  PEDIGREE_TRY(router.Add(
      "POST", "/v1/trials/{id}/submissions", of_trial(submitters, kParties),
      [api](const HttpRequest& req) -> HttpResponse {
        const std::string& trial_id = req.path_params.at("id");
        auto signer = SignerFromQuery(req);
        if (!signer) return ErrorResponse(signer.error());
        auto upload = UploadFromBody(req, trial_id);
        if (!upload) return ParseRefusal(upload.error());
        // A copy per request: the mapping is this upload's.
        TrialWorkflow workflow = api->workflow;
        if (auto refs = upload->subjects) {
          workflow.SetSubjectRefs([refs](std::string_view usubjid) {
            auto it = refs->find(std::string(usubjid));
            return it == refs->end() ? std::string() : it->second;
          });
        }
        const scanner::Dataset& dataset = upload->dataset;
        auto result =
            workflow.SubmitDataset(*signer, trial_id, dataset, OptionalQuery(req, "reason"));
        if (!result) return ErrorResponse(result.error());
        auto o = JsonValue::Object();
        o.set("kind", JsonValue("trial.submit"));
        o.set("domain", JsonValue(dataset.domain));
        auto indices = JsonValue::Array();
        for (uint64_t i : result->indices) indices.push_back(Int(i));
        o.set("indices", std::move(indices));
        o.set("submitted", Int(result->submitted));
        o.set("replaced", Int(result->replaced));
        o.set("unchanged", Int(result->unchanged));
        return Json(201, o);
      },
      BodyKind::kAny, max_dataset_bytes));

  PEDIGREE_TRY(router.Add(
      "POST", "/v1/trials/{id}/seals", of_trial(sponsors, kSponsor),
      [api](const HttpRequest& req) -> HttpResponse {
        auto body = BodyObject(req);
        if (!body) return ErrorResponse(body.error());
        auto signer = SignerFromBody(req, *body);
        if (!signer) return ErrorResponse(signer.error());
        auto domain = RequiredQuery(req, "domain");
        if (!domain) return ErrorResponse(domain.error());
        auto sealed = api->workflow.Seal(*signer, req.path_params.at("id"), *domain);
        if (!sealed) return ErrorResponse(sealed.error());
        auto o = SealSummaryJson(sealed->summary);
        o.set("index", Int(sealed->index));
        o.set("kind", JsonValue("trial.seal"));
        o.set("domain", JsonValue(*domain));
        return Json(201, o);
      },
      BodyKind::kJson));

  PEDIGREE_TRY(router.Add(
      "POST", "/v1/trials/{id}/verify", of_grant(record_readers),
      [api](const HttpRequest& req) -> HttpResponse {
        const std::string& trial_id = req.path_params.at("id");
        std::optional<Hash> recorded;
        if (std::string hex = OptionalQuery(req, "byteExact"); !hex.empty()) {
          auto h = HashParam(hex, "byteExact");
          if (!h) return ErrorResponse(h.error());
          recorded = *h;
        }
        auto mapped = BodyBytes::Of(req);
        if (!mapped) return ErrorResponse(mapped.error());
        std::optional<BodyBytes> bytes(std::move(*mapped));
        auto dataset = DatasetFromBody(req, bytes->view(), trial_id);
        if (!dataset) return ParseRefusal(dataset.error());
        // Without byteExact the file is done with once parsed: a spooled one is unmapped
        // before the compare, so that its pages do not add to the compare's peak.
        if (!recorded) bytes.reset();
        auto check = api->workflow.VerifyFor(req.principal->org_id, trial_id, *dataset, recorded,
                                             recorded ? bytes->view() : "");
        if (!check) return ErrorResponse(check.error());
        return Json(200, CandidateCheckJson(*check));
      },
      BodyKind::kAny, max_dataset_bytes));

  PEDIGREE_TRY(router.Add("GET", "/v1/trials/{id}/disclosures", of_grant(record_readers),
                          [api](const HttpRequest& req) -> HttpResponse {
                            auto domain = RequiredQuery(req, "domain");
                            if (!domain) return ErrorResponse(domain.error());
                            auto key = RequiredQuery(req, "key");
                            if (!key) return ErrorResponse(key.error());
                            auto d = api->workflow.DiscloseFor(
                                req.principal->org_id, req.path_params.at("id"), *domain, *key);
                            if (!d) return ErrorResponse(d.error());
                            HttpResponse r;
                            r.body = provenance::DisclosureToJson(*d);
                            return r;
                          }));

  // Anyone may check a disclosure against this log's key: it reveals nothing new.
  PEDIGREE_TRY(router.Add(
      "POST", "/v1/disclosures/verify", Access::Public(),
      [api](const HttpRequest& req) -> HttpResponse {
        auto d = provenance::ParseDisclosure(req.body);
        if (!d) return ErrorResponse(400, d.error());
        auto verifier = log::NoteVerifier::Parse(api->node.ledger().VerifierKey());
        if (!verifier) return ErrorResponse(verifier.error());
        std::vector<log::NoteVerifier> keys{*verifier};
        auto ok = provenance::VerifyDisclosure(*d, keys);
        if (!ok) return ErrorResponse(422, ok.error());
        auto o = JsonValue::Object();
        o.set("verified", JsonValue(true));
        o.set("trialId", JsonValue(d->trial_id));
        o.set("domain", JsonValue(d->domain));
        o.set("key", JsonValue(ok->record_key));
        o.set("checkpoint", JsonValue::Object()
                                .set("origin", JsonValue(ok->checkpoint.origin))
                                .set("size", Int(ok->checkpoint.size)));
        o.set("sealIndex", Int(d->evidence.seal_index));
        o.set("signerKey", JsonValue(ok->signer_key));
        return Json(200, o);
      },
      BodyKind::kJson));

  PEDIGREE_TRY(router.Add(
      "POST", "/v1/trials/{id}/redactions", of_trial(sponsors, kSponsor),
      [api](const HttpRequest& req) -> HttpResponse {
        auto body = BodyObject(req);
        if (!body) return ErrorResponse(body.error());
        auto signer = SignerFromBody(req, *body);
        if (!signer) return ErrorResponse(signer.error());
        auto domain = RequiredString(*body, "domain", "domain");
        if (!domain) return ErrorResponse(domain.error());
        std::string reason;
        if (const JsonValue* r = body->find("reason"); r && r->is_string()) reason = r->as_string();
        // `key` names the current record; `leaf` any version, e.g. one since corrected.
        Result<uint64_t> index;
        if (body->find("leaf")) {
          auto hex = RequiredString(*body, "leaf", "leaf");
          if (!hex) return ErrorResponse(hex.error());
          auto leaf = HashParam(*hex, "leaf");
          if (!leaf) return ErrorResponse(leaf.error());
          index =
              api->workflow.RedactLeaf(*signer, req.path_params.at("id"), *domain, *leaf, reason);
        } else {
          auto key = RequiredString(*body, "key", "key");
          if (!key) return ErrorResponse(key.error());
          index = api->workflow.Redact(*signer, req.path_params.at("id"), *domain, *key, reason);
        }
        if (!index) return ErrorResponse(index.error());
        auto o = JsonValue::Object();
        o.set("index", Int(*index));
        o.set("kind", JsonValue("trial.redact"));
        return Json(201, o);
      },
      BodyKind::kJson));

  // A participant's receipt (docs/consent.md "Participant receipts"): the secret is the
  // capability and travels in the body, never in the URL (which access logs keep).
  PEDIGREE_TRY(router.Add(
      "POST", "/v1/trials/{id}/receipts", of_trial(readers, kParties),
      [api](const HttpRequest& req) -> HttpResponse {
        auto body = BodyObject(req);
        if (!body) return ErrorResponse(body.error());
        auto secret = RequiredString(*body, "subjectSecret", "subjectSecret");
        if (!secret) return ErrorResponse(secret.error());
        auto receipt =
            reports::GatherReceipt(api->node.ledger(), req.path_params.at("id"), *secret);
        if (!receipt) return ErrorResponse(receipt.error());
        HttpResponse r;
        r.status = 200;
        r.body = reports::WriteReceipt(*receipt);
        r.headers["Content-Disposition"] =
            "attachment; filename=\"" + ReceiptFileName(receipt->trial_id) + "\"";
        // It lists one participant's history: not for shared caches.
        r.headers["Cache-Control"] = "no-store";
        return r;
      },
      BodyKind::kJson));

  PEDIGREE_TRY(router.Add(
      "POST", "/v1/trials/{id}/outcome-check", of_trial(readers, kParties),
      [api](const HttpRequest& req) -> HttpResponse {
        auto body = BodyObject(req);
        if (!body) return ErrorResponse(body.error());
        auto primary = StringList(*body, "primary");
        if (!primary) return ErrorResponse(primary.error());
        auto secondary = StringList(*body, "secondary");
        if (!secondary) return ErrorResponse(secondary.error());
        auto d = api->workflow.CheckOutcomes(req.path_params.at("id"), *primary, *secondary);
        if (!d) return ErrorResponse(d.error());
        auto o = JsonValue::Object();
        o.set("consistent", JsonValue(d->empty()));
        o.set("reportedNotSealed", JsonValue::Strings(d->reported_not_sealed));
        o.set("sealedNotReported", JsonValue::Strings(d->sealed_not_reported));
        o.set("moved", JsonValue::Strings(d->moved));
        return Json(200, o);
      },
      BodyKind::kJson));

  PEDIGREE_TRY(router.Add("GET", "/v1/trials/{id}", of_trial(readers, kParties),
                          [api](const HttpRequest& req) -> HttpResponse {
                            const std::string& id = req.path_params.at("id");
                            auto view = provenance::TrialView::Open(api->node.ledger().db_path());
                            if (!view) return ErrorResponse(view.error());
                            auto trial = (*view)->Trial(id);
                            if (!trial) return ErrorResponse(trial.error());
                            if (!*trial) {
                              return ErrorResponse(
                                  Error("trial.not_found", "no trial '" + id + "'").at_field("id"));
                            }
                            Error failure("internal", "");
                            JsonValue o = TrialJson(**view, **trial, &failure);
                            if (o.is_null()) return ErrorResponse(failure);
                            return Json(200, o);
                          }));

  // Kits: the trial id is in the body (`trialId`).
  struct KitRoute {
    const char* action;
    const char* kind;
    Access access;
    api::TrialParties parties;
  };
  for (const KitRoute& k : {KitRoute{"register", "kit.register", sponsors, kSponsor},
                            KitRoute{"ship", "kit.ship", sponsors, kSponsor},
                            KitRoute{"receive", "kit.receive", sites, kParties},
                            KitRoute{"assign", "kit.assign", sites, kParties},
                            KitRoute{"dispense", "kit.dispense", sites, kParties},
                            KitRoute{"return", "kit.return", sites, kParties},
                            KitRoute{"excursion", "kit.excursion", submitters, kParties},
                            KitRoute{"decision", "kit.decision", sponsors, kSponsor}}) {
    const Access access = k.access.Scoped(k.parties == kSponsor ? "trial-sponsor" : "trial",
                                          api::TrialInBodyScope(node, k.parties));
    PEDIGREE_TRY(router.Add("POST", std::string("/v1/kits/") + k.action, access,
                            TrialCommand(api, k.kind, KitsFromCode), BodyKind::kJson));
  }
  PEDIGREE_TRY(router.Add("GET", "/v1/kits/{kit}",
                          readers.Scoped("kit", api::KitScope(node, api::NamedBy::kPath)),
                          [api](const HttpRequest& req) {
                            return KitResponse(api->node, req.path_params.at("kit"), "kit");
                          }));
  PEDIGREE_TRY(router.Add("GET", "/v1/kits",
                          readers.Scoped("kit", api::KitScope(node, api::NamedBy::kQueryCode)),
                          [api](const HttpRequest& req) {
                            auto code = RequiredQuery(req, "code");
                            if (!code) return ErrorResponse(code.error());
                            return KitResponse(api->node, *code, "code");
                          }));
  // Dataset uploads parse and compare whole files: on the server's expensive pool, their
  // bodies spooled to disk, and refused before the file is read where that needs no file.
  PEDIGREE_TRY(router.MarkExpensive("POST", "/v1/trials/{id}/submissions"));
  PEDIGREE_TRY(router.MarkExpensive("POST", "/v1/trials/{id}/verify"));
  PEDIGREE_TRY(router.MarkSpooled("POST", "/v1/trials/{id}/submissions"));
  PEDIGREE_TRY(router.MarkSpooled("POST", "/v1/trials/{id}/verify"));
  PEDIGREE_TRY(router.MarkCheckedBeforeBody(
      "POST", "/v1/trials/{id}/submissions",
      [api](const HttpRequest& req) -> Status { return SubmissionAllowed(api->node, req); }));
  PEDIGREE_TRY(router.MarkCheckedBeforeBody(
      "POST", "/v1/trials/{id}/verify",
      [api](const HttpRequest& req) -> Status { return VerifyAllowed(*api, req); }));
  return Ok();
}

namespace {

// The verifier's report of POST /v1/receipts/verify with, in front, what the participant's
// page shows: the verdict, the first failure and the accesses (the trial.access events).
JsonValue ReceiptCheckJson(JsonValue report, bool witness_policy) {
  const std::string verdict = report.find("verdict")->as_string();
  auto accesses = JsonValue::Array();
  for (const JsonValue& e : report.find("events")->as_array()) {
    if (e.find("kind")->as_string() != "trial.access") continue;
    auto a = JsonValue::Object();
    for (const char* k : {"index", "time", "reader", "readerName", "grantId", "purpose", "domain",
                          "outcome", "subjectRecords"}) {
      if (const JsonValue* v = e.find(k)) a.set(k, *v);
    }
    accesses.push_back(std::move(a));
  }
  auto o = JsonValue::Object()
               .set("verified", JsonValue(verdict == "VERIFIED"))
               .set("verdict", JsonValue(verdict))
               .set("summary", *report.find("summary"));
  const JsonValue& failures = *report.find("failures");
  o.set("failure", failures.size() ? failures.as_array().front() : JsonValue());
  const JsonValue* subject = report.find("subject");
  o.set("trialId", *subject->find("trialId"));
  o.set("subjectRef", *subject->find("subjectRef"));
  o.set("accesses", std::move(accesses));
  o.set("trust",
        JsonValue::Object()
            .set("node", JsonValue(true))
            .set("witnessPolicy", JsonValue(witness_policy))
            .set("note", JsonValue("checked against this node's own log key, authority key" +
                                   std::string(witness_policy ? " and witness policy" : "") +
                                   "; `pedigree trial verify-receipt` checks the file "
                                   "independently of this node")));
  o.set("report", std::move(report));
  return o;
}

}  // namespace

Status AddReceiptRoutes(Router& router, SupplyNode& node, const WitnessClient* witnesses) {
  // Public: the participant has no token, and the receipt holds nothing its bearer does not
  // already have. Anonymous calls are rate limited per address (ServerConfig); the body is
  // the receipt file within the server's body limit, as every other upload but datasets'.
  PEDIGREE_TRY(router.Add(
      "POST", "/v1/receipts/verify", Access::Public(),
      [&node, witnesses](const HttpRequest& req) -> HttpResponse {
        auto receipt = reports::ReadReceipt(req.body);
        if (!receipt) {
          // A body that is no JSON names no member: the field is the body itself.
          Error e = receipt.error();
          return ErrorResponse(400, e.field().empty() ? e.at_field("receipt") : e);
        }
        auto anchors = reports::LedgerTrustAnchors(node.ledger());
        if (!anchors) return ErrorResponse(anchors.error());
        if (witnesses) anchors->policy = witnesses->policy();
        // No subject secret: it would have to leave the participant's hands; the report says
        // the entries are checked against the receipt's own subjectRef.
        JsonValue report = reports::VerifyReceipt(*receipt, *anchors, std::nullopt, node.Now());
        return Json(200, ReceiptCheckJson(std::move(report), witnesses != nullptr));
      }));
  // Every entry's signature and inclusion proof: on the expensive pool.
  return router.MarkExpensive("POST", "/v1/receipts/verify");
}

}  // namespace pedigree::services
