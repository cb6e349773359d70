#include "pedigree/reports/quorum_check.h"

#include "entry_checks.h"

namespace pedigree::reports {

void AddQuorumCheck(JsonValue& report, const log::Policy& policy) {
  JsonValue* log = report.find("log");
  const JsonValue* note = log ? log->find("checkpoint") : nullptr;
  std::string why;
  bool met = false;
  if (!note || !note->is_string()) {
    why = "the report holds no signed checkpoint; the policy needs " + log::DescribeQuorum(policy);
  } else if (auto q = log::EvaluateQuorum(policy, note->as_string()); !q) {
    why = "the checkpoint's cosignatures do not verify: " + q.error().ToString();
  } else {
    std::string names;
    for (const auto& n : q->cosigned) names += (names.empty() ? "" : ", ") + n;
    why = "cosigned by " + (names.empty() ? std::string("no policy witness") : names) +
          "; the policy needs " + q->requirement;
    met = q->met;
    if (log) {
      log->set("quorum", JsonValue::Object()
                             .set("requirement", q->requirement)
                             .set("cosignedBy", JsonValue::Strings(q->cosigned))
                             .set("met", met));
    }
  }
  if (JsonValue* checks = report.find("checks"); checks && checks->is_array()) {
    checks->push_back(internal::Check("checkpoint.quorum", met, why));
  }
  if (met) return;
  if (JsonValue* failures = report.find("failures"); failures && failures->is_array()) {
    failures->push_back(JsonValue::Object()
                            .set("code", "checkpoint.quorum")
                            .set("message",
                                 "the newest checkpoint does not meet the witness "
                                 "policy's quorum: " +
                                     why));
  }
  report.set("verdict", "FAILED");
  report.set("summary",
             "The newest checkpoint is not witnessed as the policy requires: " + why + ".");
}

}  // namespace pedigree::reports
