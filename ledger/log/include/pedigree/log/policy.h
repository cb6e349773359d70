// C2SP tlog-policy: which logs a verifier trusts, which witnesses it knows and the quorum of
// witness cosignatures a checkpoint needs before it is believed. No I/O here.
// See ../../../../docs/witness.md, "Witness policy".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/error.h"
#include "pedigree/log/note.h"

namespace pedigree::log {

// A `log <vkey> [url]` line: a log key (signed-note Ed25519, type 0x01).
struct PolicyLog {
  NoteVerifier key;
  std::string url;  // empty when the line has none
};

// A `witness <name> <vkey> [url]` line: a cosigner key (cosignature/v1, type 0x04). `url`
// is the witness's submission prefix: the client posts to <url>/add-checkpoint.
struct PolicyWitness {
  std::string name;
  NoteVerifier key;
  std::string url;
};

// A `group <name> all|any|<k> <member>...` line; members name witnesses or earlier groups.
struct PolicyGroup {
  std::string name;
  size_t threshold = 0;  // how many members must be satisfied; 1..members.size()
  std::vector<std::string> members;
};

struct Policy {
  std::vector<PolicyLog> logs;
  std::vector<PolicyWitness> witnesses;
  std::vector<PolicyGroup> groups;
  // The witness or group named by the `quorum` line; nullopt for `quorum none`.
  std::optional<std::string> quorum;

  const PolicyWitness* FindWitness(std::string_view name) const;
  const PolicyGroup* FindGroup(std::string_view name) const;
  // The witnesses' keys, in policy order (index i is witnesses[i]).
  std::vector<NoteVerifier> WitnessKeys() const;
};

// Strict parse of a policy file. One statement a line, fields separated by spaces or tabs,
// '#' starts a comment, blank lines are ignored. Names are defined once (witnesses and
// groups share one namespace) before they are used; a group names each member once; there is
// exactly one quorum line. No limit on the number of logs, witnesses or groups besides the
// input's size. Errors, each at the line and column of the offending token and naming it:
// policy.malformed (unknown keyword, missing or extra fields, a URL that is not http(s)://),
// policy.bad_key (a verifier key that does not parse, or a log key that is not Ed25519 /
// a witness key that is not cosignature/v1), policy.duplicate_name, policy.unknown_name,
// policy.bad_threshold (not all/any/1..members), policy.quorum (no quorum line, or two).
[[nodiscard]] Result<Policy> ParsePolicy(std::string_view text);

// Whether the witnesses named in `cosigned` satisfy the policy's quorum (`none` always does).
bool QuorumMet(const Policy& policy, const std::set<std::string>& cosigned);

// The quorum rule in words, e.g. "2 of {w1, w2, w3}", "all of {eu, any of {a, b}}", "none".
std::string DescribeQuorum(const Policy& policy);

// The quorum evaluation of one signed checkpoint note.
struct QuorumEvaluation {
  std::vector<std::string> cosigned;  // policy witness names with a valid cosignature/v1
  bool met = false;
  std::string requirement;  // DescribeQuorum(policy)
};

// How far ahead of the verifier's clock a cosignature's timestamp may be. A witness signs
// with its own clock, so a little skew is normal; a timestamp beyond this is a witness whose
// clock is wrong or a cosignature made for a future that has not happened, and is refused.
inline constexpr uint64_t kMaxCosignatureFutureSeconds = 10 * 60;

// Verifies the cosignature/v1 lines of `note` by the policy's witnesses (lines by other keys
// are ignored) and evaluates the quorum. Does not check the log's own signature: the caller
// trusts a log key of its own. `now` is the verifier's clock in Unix seconds (the system
// clock when empty). Errors: note.malformed, note.bad_signature (a line by a policy
// witness's name and key ID fails to verify: the whole note is rejected, as signed-note
// says), note.future_cosignature (a policy witness's valid cosignature is timestamped more
// than kMaxCosignatureFutureSeconds after `now`: rejected likewise, naming the witness).
[[nodiscard]] Result<QuorumEvaluation> EvaluateQuorum(const Policy& policy, std::string_view note,
                                                      std::optional<uint64_t> now = std::nullopt);

}  // namespace pedigree::log
