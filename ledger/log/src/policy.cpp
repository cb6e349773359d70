#include "pedigree/log/policy.h"

#include <algorithm>
#include <charconv>
#include <chrono>

namespace pedigree::log {
namespace {

struct Token {
  std::string_view text;
  uint64_t column = 0;  // 1-based byte offset in the line
};

std::string Shown(std::string_view text) {
  std::string out(text.substr(0, 60));
  return text.size() > 60 ? out + "..." : out;
}

Error At(std::string code, const std::string& message, uint64_t line, const Token& token) {
  return Error(std::move(code), "line " + std::to_string(line) + " column " +
                                    std::to_string(token.column) + ": " + message)
      .at_line_column(line, token.column);
}

bool IsUrl(std::string_view url) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.size() > scheme.size() && url.substr(0, scheme.size()) == scheme) return true;
  }
  return false;
}

class Parser {
 public:
  Result<Policy> Run(std::string_view text) {
    uint64_t line_no = 0;
    while (!text.empty()) {
      ++line_no;
      size_t nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
      for (size_t i = 0; i < line.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(line[i]);
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
          return Fail(Error("policy.malformed", "line " + std::to_string(line_no) + " column " +
                                                    std::to_string(i + 1) + ": control character " +
                                                    std::to_string(c))
                          .at_line_column(line_no, i + 1));
        }
      }
      std::vector<Token> tokens;
      for (size_t i = 0; i < line.size();) {
        if (line[i] == ' ' || line[i] == '\t') {
          ++i;
          continue;
        }
        if (line[i] == '#') break;  // a comment runs to the end of the line
        size_t end = line.find_first_of(" \t", i);
        if (end == std::string_view::npos) end = line.size();
        tokens.push_back(Token{line.substr(i, end - i), i + 1});
        i = end;
      }
      if (tokens.empty()) continue;
      if (auto ok = Statement(tokens, line_no); !ok) return std::unexpected(ok.error());
    }
    if (!quorum_line_) {
      return Fail(Error("policy.quorum",
                        "the policy has no quorum line (\"quorum <name>\" or "
                        "\"quorum none\")"));
    }
    return std::move(policy_);
  }

 private:
  Status Statement(const std::vector<Token>& t, uint64_t line) {
    std::string_view keyword = t[0].text;
    if (keyword == "log") return Log(t, line);
    if (keyword == "witness") return Witness(t, line);
    if (keyword == "group") return Group(t, line);
    if (keyword == "quorum") return Quorum(t, line);
    return Fail(
        At("policy.malformed",
           "unknown keyword '" + Shown(keyword) + "' (expected log, witness, group or quorum)",
           line, t[0]));
  }

  Status Arity(const std::vector<Token>& t, uint64_t line, size_t min, size_t max,
               std::string_view form) {
    if (t.size() < min) {
      return Fail(At("policy.malformed",
                     "'" + std::string(t[0].text) + "' needs \"" + std::string(form) + "\"", line,
                     t.back()));
    }
    if (t.size() > max) {
      return Fail(At("policy.malformed",
                     "unexpected '" + Shown(t[max].text) + "' after \"" + std::string(form) + "\"",
                     line, t[max]));
    }
    return Ok();
  }

  Result<NoteVerifier> Key(const Token& token, uint64_t line, NoteKeyType type,
                           std::string_view role) {
    auto key = NoteVerifier::Parse(token.text);
    if (!key) {
      return Fail(At("policy.bad_key",
                     "'" + Shown(token.text) + "' is not a verifier key: " + key.error().message(),
                     line, token));
    }
    if (key->type() != type) {
      return Fail(At("policy.bad_key",
                     "'" + Shown(token.text) + "' is not a " + std::string(role) +
                         " key (type 0x0" + std::to_string(static_cast<int>(type)) + ")",
                     line, token));
    }
    return key;
  }

  Result<std::string> Url(const std::vector<Token>& t, size_t at, uint64_t line) {
    if (t.size() <= at) return std::string();
    if (!IsUrl(t[at].text)) {
      return Fail(At("policy.malformed",
                     "'" + Shown(t[at].text) + "' is not an http:// or https:// URL", line, t[at]));
    }
    std::string url(t[at].text);
    while (url.back() == '/') url.pop_back();
    return url;
  }

  Status NewName(const Token& token, uint64_t line) {
    if (token.text == "none") {
      return Fail(At("policy.malformed", "'none' is reserved for \"quorum none\"", line, token));
    }
    if (!names_.insert(std::string(token.text)).second) {
      return Fail(At("policy.duplicate_name",
                     "the name '" + Shown(token.text) + "' is already defined", line, token));
    }
    return Ok();
  }

  Status Known(const Token& token, uint64_t line) {
    if (!names_.contains(std::string(token.text))) {
      return Fail(At("policy.unknown_name",
                     "'" + Shown(token.text) + "' is not a witness or group defined above", line,
                     token));
    }
    return Ok();
  }

  Status Log(const std::vector<Token>& t, uint64_t line) {
    PEDIGREE_TRY(Arity(t, line, 2, 3, "log <vkey> [url]"));
    PEDIGREE_ASSIGN(key, Key(t[1], line, NoteKeyType::kEd25519, "log (Ed25519, signed-note)"));
    PEDIGREE_ASSIGN(url, Url(t, 2, line));
    policy_.logs.push_back(PolicyLog{*std::move(key), *std::move(url)});
    return Ok();
  }

  Status Witness(const std::vector<Token>& t, uint64_t line) {
    PEDIGREE_TRY(Arity(t, line, 3, 4, "witness <name> <vkey> [url]"));
    PEDIGREE_TRY(NewName(t[1], line));
    PEDIGREE_ASSIGN(key, Key(t[2], line, NoteKeyType::kCosignatureV1, "witness (cosignature/v1)"));
    PEDIGREE_ASSIGN(url, Url(t, 3, line));
    policy_.witnesses.push_back(
        PolicyWitness{std::string(t[1].text), *std::move(key), *std::move(url)});
    return Ok();
  }

  Status Group(const std::vector<Token>& t, uint64_t line) {
    PEDIGREE_TRY(Arity(t, line, 4, t.size(), "group <name> all|any|<k> <member>..."));
    PEDIGREE_TRY(NewName(t[1], line));
    PolicyGroup group{std::string(t[1].text), 0, {}};
    std::set<std::string_view> seen;
    for (size_t i = 3; i < t.size(); ++i) {
      PEDIGREE_TRY(Known(t[i], line));
      if (t[i].text == t[1].text) {
        return Fail(At("policy.unknown_name",
                       "group '" + group.name + "' cannot be a member of itself", line, t[i]));
      }
      if (!seen.insert(t[i].text).second) {
        return Fail(At("policy.duplicate_name",
                       "'" + Shown(t[i].text) + "' is listed twice in group '" + group.name + "'",
                       line, t[i]));
      }
      group.members.emplace_back(t[i].text);
    }
    size_t n = group.members.size();
    std::string_view k = t[2].text;
    if (k == "all") {
      group.threshold = n;
    } else if (k == "any") {
      group.threshold = 1;
    } else {
      size_t v = 0;
      auto [end, ec] = std::from_chars(k.data(), k.data() + k.size(), v);
      if (ec != std::errc() || end != k.data() + k.size() || k[0] == '0' || v < 1 || v > n) {
        return Fail(At("policy.bad_threshold",
                       "threshold '" + Shown(k) + "' is not all, any or a number from 1 to " +
                           std::to_string(n) + " (the group's members)",
                       line, t[2]));
      }
      group.threshold = v;
    }
    policy_.groups.push_back(std::move(group));
    return Ok();
  }

  Status Quorum(const std::vector<Token>& t, uint64_t line) {
    PEDIGREE_TRY(Arity(t, line, 2, 2, "quorum <name>|none"));
    if (quorum_line_) {
      return Fail(
          At("policy.quorum",
             "a second quorum line (the first is line " + std::to_string(*quorum_line_) + ")", line,
             t[0]));
    }
    quorum_line_ = line;
    if (t[1].text == "none") return Ok();
    PEDIGREE_TRY(Known(t[1], line));
    policy_.quorum = std::string(t[1].text);
    return Ok();
  }

  Policy policy_;
  std::set<std::string> names_;
  std::optional<uint64_t> quorum_line_;
};

bool Satisfied(const Policy& policy, std::string_view name, const std::set<std::string>& cosigned,
               size_t depth) {
  if (policy.FindWitness(name)) return cosigned.contains(std::string(name));
  const PolicyGroup* group = policy.FindGroup(name);
  // Groups only name earlier definitions, so the depth is bounded by the group count; the
  // check guards against a hand-built Policy with a cycle.
  if (!group || depth > policy.groups.size()) return false;
  size_t n = 0;
  for (const auto& m : group->members) n += Satisfied(policy, m, cosigned, depth + 1);
  return n >= group->threshold;
}

std::string Describe(const Policy& policy, std::string_view name, size_t depth) {
  const PolicyGroup* group = policy.FindGroup(name);
  if (!group || depth > policy.groups.size()) return std::string(name);
  std::string out = group->threshold == group->members.size() && group->members.size() > 1
                        ? "all"
                        : std::to_string(group->threshold);
  if (group->threshold == 1 && group->members.size() > 1) out = "any";
  out += " of {";
  for (size_t i = 0; i < group->members.size(); ++i) {
    if (i) out += ", ";
    out += Describe(policy, group->members[i], depth + 1);
  }
  return out + "}";
}

}  // namespace

const PolicyWitness* Policy::FindWitness(std::string_view name) const {
  auto it = std::find_if(witnesses.begin(), witnesses.end(),
                         [&](const PolicyWitness& w) { return w.name == name; });
  return it == witnesses.end() ? nullptr : &*it;
}

const PolicyGroup* Policy::FindGroup(std::string_view name) const {
  auto it = std::find_if(groups.begin(), groups.end(),
                         [&](const PolicyGroup& g) { return g.name == name; });
  return it == groups.end() ? nullptr : &*it;
}

std::vector<NoteVerifier> Policy::WitnessKeys() const {
  std::vector<NoteVerifier> keys;
  for (const auto& w : witnesses) keys.push_back(w.key);
  return keys;
}

Result<Policy> ParsePolicy(std::string_view text) { return Parser().Run(text); }

bool QuorumMet(const Policy& policy, const std::set<std::string>& cosigned) {
  if (!policy.quorum) return true;
  return Satisfied(policy, *policy.quorum, cosigned, 0);
}

std::string DescribeQuorum(const Policy& policy) {
  if (!policy.quorum) return "none";
  return Describe(policy, *policy.quorum, 0);
}

Result<QuorumEvaluation> EvaluateQuorum(const Policy& policy, std::string_view note,
                                        std::optional<uint64_t> now) {
  QuorumEvaluation out;
  out.requirement = DescribeQuorum(policy);
  std::vector<NoteVerifier> keys = policy.WitnessKeys();
  auto opened = OpenNote(note, keys);
  std::set<std::string> cosigned;
  if (opened) {
    const uint64_t clock =
        now ? *now
            : static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
    for (const auto& s : opened->verified) {
      const std::string& name = policy.witnesses[s.verifier_index].name;
      if (s.timestamp && *s.timestamp > clock + kMaxCosignatureFutureSeconds) {
        return Fail(
            Error("note.future_cosignature",
                  "witness " + name + "'s cosignature is timestamped " +
                      std::to_string(*s.timestamp) + ", " + std::to_string(*s.timestamp - clock) +
                      " s after this verifier's clock (" + std::to_string(clock) + "); more than " +
                      std::to_string(kMaxCosignatureFutureSeconds) + " s ahead is refused"));
      }
      cosigned.insert(name);
    }
  } else if (opened.error().code() != "note.no_verified_signature") {
    return std::unexpected(opened.error());
  }
  for (const auto& w : policy.witnesses) {
    if (cosigned.contains(w.name)) out.cosigned.push_back(w.name);
  }
  out.met = QuorumMet(policy, cosigned);
  return out;
}

}  // namespace pedigree::log
