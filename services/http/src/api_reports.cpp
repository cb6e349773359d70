// The report endpoints: pack, container, batch and audit reports as JSON, HTML or text, the
// offline pack and container bundles, and a container's state and history. Handlers decide who may
// see what and hand the rest to reports/; nothing here verifies anything itself. See docs/api.md,
// "Reports".
#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>

#include "api_common.h"
#include "api_scope.h"
#include "job_registry.h"
#include "pedigree/base/time.h"
#include "pedigree/http/api.h"
#include "pedigree/provenance/trial_view.h"
#include "pedigree/reports/audit_report.h"
#include "pedigree/reports/batch_report.h"
#include "pedigree/reports/bundle.h"
#include "pedigree/reports/container_report.h"
#include "pedigree/reports/html.h"
#include "pedigree/reports/pack_report.h"
#include "pedigree/reports/trial_report.h"

namespace pedigree::services {
namespace {

// The HTML report has inline CSS and inline SVG only: nothing else may load or run.
constexpr const char* kHtmlPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

// LedgerEvidenceSources, one per concurrent report request: each holds read connections
// of its own and is not thread-safe, so a request takes one out of the pool and puts it
// back when done. Thread-safe.
class EvidencePool {
 public:
  explicit EvidencePool(log::Ledger& ledger) : ledger_(ledger) {}

  [[nodiscard]] Result<reports::PackEvidence> Gather(std::string_view code) {
    std::unique_ptr<reports::LedgerEvidenceSource> source;
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        source = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!source) {
      auto opened = reports::LedgerEvidenceSource::Open(ledger_);
      if (!opened) return std::unexpected(opened.error());
      source = std::move(*opened);
    }
    auto evidence = source->Gather(code);
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(source));
    return evidence;
  }

 private:
  log::Ledger& ledger_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<reports::LedgerEvidenceSource>> idle_;
};

// The `format` query parameter: json (the default), html or text.
Result<std::string> FormatOf(const HttpRequest& req) {
  auto it = req.query.find("format");
  if (it == req.query.end() || it->second.empty()) return std::string("json");
  if (it->second == "json" || it->second == "html" || it->second == "text") return it->second;
  return Fail(Error("request.bad_parameter",
                    "parameter 'format' must be json, html or text, got '" + it->second + "'")
                  .at_field("format"));
}

HttpResponse ReportResponse(const JsonValue& report, const std::string& format) {
  HttpResponse r;
  if (format == "html") {
    r.content_type = "text/html; charset=utf-8";
    r.body = reports::RenderHtml(report);
    r.headers["Content-Security-Policy"] = kHtmlPolicy;
  } else if (format == "text") {
    r.content_type = "text/plain; charset=utf-8";
    r.body = reports::RenderText(report);
  } else {
    r.body = Canonicalize(report);
  }
  // Reports name parties and carry business data: not for shared caches.
  r.headers["Cache-Control"] = "no-store";
  r.headers["X-Content-Type-Options"] = "nosniff";
  return r;
}

// One audit job: AuditReport with the running node's key (as GET /v1/reports/audit), its
// progress (entries checked of the total) written to the job's status as it goes, then
// state "done" with the report as `result`, or "failed" with the error that stopped it.
void RunAuditJob(SupplyNode& node, const JobRegistry::Update& update) {
  update([&](JsonValue& status) { status.set("state", "running"); });
  reports::AuditOptions options;
  options.log_verifier_key = node.ledger().VerifierKey();
  options.progress = [&update](uint64_t done, uint64_t total) {
    update([&](JsonValue& status) { status.set("checked", done).set("total", total); });
  };
  auto report = reports::AuditReport(node.ledger().dir(), options);
  update([&](JsonValue& status) {
    status.set("finishedAt", FormatUtcTime(node.Now()));
    if (report) {
      status.set("state", "done").set("result", std::move(*report));
    } else {
      status.set("state", "failed")
          .set("error", JsonValue::Object()
                            .set("code", report.error().code())
                            .set("message", report.error().message()));
    }
  });
}

}  // namespace

Status AddReportRoutes(Router& router, SupplyNode& node) {
  const Access members = Access::AnyOf({"manufacturer", "wholesaler", "dispenser", "regulator"});
  auto pool = std::make_shared<EvidencePool>(node.ledger());
  // Who may see which pack, container, batch or trial: the route's scope (api_scope.h),
  // checked by the router before the handler runs.
  const Access pack_readers =
      members.Scoped("pack", api::PackScope(node, api::NamedBy::kQueryCode));
  const Access container_readers =
      members.Scoped("container", api::ContainerScope(node, api::NamedBy::kQueryCode));

  PEDIGREE_TRY(
      router.Add("GET", "/v1/reports/pack", pack_readers, [&node, pool](const HttpRequest& req) {
        auto format = FormatOf(req);
        if (!format) return ErrorResponse(format.error());
        auto evidence = pool->Gather(req.query.at("code"));
        if (!evidence) return ErrorResponse(evidence.error());
        auto anchors = reports::LedgerTrustAnchors(node.ledger());
        if (!anchors) return ErrorResponse(anchors.error());
        return ReportResponse(reports::VerifyPack(*evidence, *anchors, node.Now()), *format);
      }));

  PEDIGREE_TRY(router.Add(
      "GET", "/v1/reports/container", container_readers, [&node](const HttpRequest& req) {
        auto format = FormatOf(req);
        if (!format) return ErrorResponse(format.error());
        auto evidence = reports::GatherContainerEvidence(node.ledger(), req.query.at("code"));
        if (!evidence) return ErrorResponse(evidence.error());
        auto anchors = reports::LedgerTrustAnchors(node.ledger());
        if (!anchors) return ErrorResponse(anchors.error());
        return ReportResponse(reports::VerifyContainer(*evidence, *anchors, node.Now()), *format);
      }));

  PEDIGREE_TRY(router.Add(
      "GET", "/v1/bundles/container", container_readers, [&node](const HttpRequest& req) {
        auto evidence = reports::GatherContainerEvidence(node.ledger(), req.query.at("code"));
        if (!evidence) return ErrorResponse(evidence.error());
        HttpResponse r;
        r.body = reports::WriteBundle(*evidence);
        r.headers["Content-Disposition"] = "attachment; filename=\"pedigree-bundle-" +
                                           evidence->pack.substr(evidence->pack.rfind('/') + 1) +
                                           ".json\"";
        r.headers["Cache-Control"] = "no-store";
        r.headers["X-Content-Type-Options"] = "nosniff";
        return r;
      }));

  // A case's or pallet's state and history (SSCC in any scanner form, percent-encoded).
  PEDIGREE_TRY(router.Add(
      "GET", "/v1/containers/{sscc}",
      members.Scoped("container", api::ContainerScope(node, api::NamedBy::kPath)),
      [&node](const HttpRequest& req) {
        auto sscc = reports::ParseContainerCode(req.path_params.at("sscc"));
        if (!sscc) return ErrorResponse(sscc.error().at_field("sscc"));
        auto container =
            node.Read([&](provenance::ProvenanceView& v) { return v.Container(sscc->value()); });
        if (!container) return ErrorResponse(container.error());
        auto history = node.Read(
            [&](provenance::ProvenanceView& v) { return v.ContainerHistory(sscc->value()); });
        if (!history) return ErrorResponse(history.error());
        if (!*container) {
          return ErrorResponse(
              Error("container.not_found", "no container " + sscc->value()).at_field("sscc"));
        }
        auto events = JsonValue::Array();
        for (uint64_t index : *history) {
          auto entry = node.ledger().Entry(index);
          if (!entry) return ErrorResponse(entry.error());
          auto env = ParseJson(*entry);
          if (!env) return ErrorResponse(env.error());
          const JsonValue* p = env->find("payload");
          auto e = JsonValue::Object().set("index", index);
          for (const char* k : {"kind", "org", "time", "parent", "children", "epcs", "to",
                                "despatchAdvice", "location", "toLocation"}) {
            if (const JsonValue* v = p ? p->find(k) : nullptr) e.set(k, *v);
          }
          events.push_back(std::move(e));
        }
        const provenance::ContainerView& c = **container;
        auto packs = JsonValue::Array();
        for (const std::string& x : c.packs) packs.push_back(x);
        auto inner = JsonValue::Array();
        for (const std::string& x : c.containers) inner.push_back(x);
        auto o = JsonValue::Object()
                     .set("sscc", c.sscc)
                     .set("containerId", reports::ContainerUri(*sscc))
                     .set("holder", c.holder)
                     .set("packs", std::move(packs))
                     .set("containers", std::move(inner));
        if (!c.parent.empty()) o.set("parent", c.parent);
        if (!c.in_transit_to.empty()) o.set("inTransitTo", c.in_transit_to);
        o.set("events", std::move(events));
        return api::Json(200, o);
      }));

  PEDIGREE_TRY(router.Add("GET", "/v1/bundles/pack", pack_readers, [pool](const HttpRequest& req) {
    auto evidence = pool->Gather(req.query.at("code"));
    if (!evidence) return ErrorResponse(evidence.error());
    auto pack = reports::ParsePackCode(evidence->pack);
    if (!pack) return ErrorResponse(pack.error());
    // GS1 serials may hold quotes, slashes and the like: keep the file name plain.
    std::string name = "pedigree-bundle-" + pack->gtin().value() + "-" + pack->serial().value();
    for (char& c : name) {
      bool plain =
          (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-';
      if (!plain) c = '_';
    }
    HttpResponse r;
    r.body = reports::WriteBundle(*evidence);
    r.headers["Content-Disposition"] = "attachment; filename=\"" + name + ".json\"";
    r.headers["Cache-Control"] = "no-store";
    r.headers["X-Content-Type-Options"] = "nosniff";
    return r;
  }));

  PEDIGREE_TRY(router.Add("GET", "/v1/reports/batch/{gtin}/{lot}",
                          members.Scoped("batch", api::BatchScope(node)),
                          [&node](const HttpRequest& req) {
                            auto format = FormatOf(req);
                            if (!format) return ErrorResponse(format.error());
                            const std::string& gtin = req.path_params.at("gtin");
                            const std::string& lot = req.path_params.at("lot");
                            auto report = node.Read([&](provenance::ProvenanceView& v) {
                              return reports::BatchReport(v, gtin, lot);
                            });
                            if (!report) return ErrorResponse(report.error());
                            return ReportResponse(*report, *format);
                          }));

  // The trial report: protocol seal, lock and seal history with every event verified. For
  // regulators and the trial's own sponsor and sites; the record data stay in the sponsor
  // store (candidate comparisons are POST /v1/trials/{id}/verify or the CLI).
  PEDIGREE_TRY(
      router.Add("GET", "/v1/reports/trial/{id}",
                 Access::AnyOf({"sponsor", "site", "regulator"})
                     .Scoped("trial", api::TrialScope(node, api::TrialParties::kSponsorSites)),
                 [&node](const HttpRequest& req) {
                   auto format = FormatOf(req);
                   if (!format) return ErrorResponse(format.error());
                   const std::string& id = req.path_params.at("id");
                   reports::TrialReportInputs inputs;
                   inputs.generated_at = node.Now();
                   auto report = reports::TrialReport(node.ledger(), id, inputs);
                   if (!report) return ErrorResponse(report.error());
                   return ReportResponse(*report, *format);
                 }));

  PEDIGREE_TRY(router.Add("GET", "/v1/reports/audit", Access::AnyOf({"regulator", "witness"}),
                          [&node](const HttpRequest& req) {
                            auto format = FormatOf(req);
                            if (!format) return ErrorResponse(format.error());
                            // The key the running node signs with, not the log.vkey file in
                            // its directory, which the audit would otherwise trust.
                            reports::AuditOptions options;
                            options.log_verifier_key = node.ledger().VerifierKey();
                            auto report = reports::AuditReport(node.ledger().dir(), options);
                            if (!report) return ErrorResponse(report.error());
                            return ReportResponse(*report, *format);
                          }));
  // The audit as a job (202 + Location), whose status says how far it got: entries checked of
  // the total, then the report. One job runs at a time, on the registry's thread, so queued
  // audits cannot starve the server's pools either.
  auto audits = std::make_shared<JobRegistry>();
  const Access auditors = Access::AnyOf({"regulator", "witness"});
  PEDIGREE_TRY(router.Add(
      "POST", "/v1/reports/audit/jobs", auditors, [&node, audits](const HttpRequest& req) {
        const std::string id = audits->Start(
            req.principal->org_id,
            [&](const std::string& job) {
              return JsonValue::Object()
                  .set("jobId", job)
                  .set("createdAt", FormatUtcTime(node.Now()))
                  .set("state", "queued")
                  .set("checked", 0)
                  .set("total", 0);
            },
            [&node](const JobRegistry::Update& update) { RunAuditJob(node, update); });
        HttpResponse r;
        r.status = 202;
        r.body = Canonicalize(JsonValue::Object().set("jobId", id));
        r.headers["Location"] = "/v1/reports/audit/jobs/" + id;
        r.headers["Cache-Control"] = "no-store";
        return r;
      }));
  PEDIGREE_TRY(
      router.Add("GET", "/v1/reports/audit/jobs/{id}", auditors, [audits](const HttpRequest& req) {
        const std::string& id = req.path_params.at("id");
        auto status = audits->Status(id, req.principal->org_id);
        if (!status) {
          return ErrorResponse(
              Error("report.no_audit_job", "no audit job '" + id + "'").at_field("id"));
        }
        HttpResponse r;
        r.body = Canonicalize(*status);
        r.headers["Cache-Control"] = "no-store";
        return r;
      }));
  // Whole-ledger and whole-batch work: on the server's expensive pool, so that concurrent
  // audits cannot starve /healthz and verify (docs/api.md, "Limits").
  PEDIGREE_TRY(router.MarkExpensive("GET", "/v1/reports/audit"));
  PEDIGREE_TRY(router.MarkExpensive("GET", "/v1/reports/trial/{id}"));
  PEDIGREE_TRY(router.MarkExpensive("GET", "/v1/reports/batch/{gtin}/{lot}"));
  return Ok();
}

}  // namespace pedigree::services
