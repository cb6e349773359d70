#include "cli_common.h"

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "pedigree/base/error_codes.h"
#include "pedigree/log/note.h"
#include "pedigree/reports/html.h"

namespace pedigree::services {
namespace {
thread_local Args::Accepted* accepted_sink = nullptr;
}  // namespace

void Args::RecordAccepted(Accepted* sink) { accepted_sink = sink; }

Result<Args> Args::Parse(const std::vector<std::string>& args, size_t first,
                         const std::set<std::string>& options, const std::set<std::string>& flags) {
  if (accepted_sink) *accepted_sink = Accepted{options, flags};
  Args parsed;
  for (size_t i = first; i < args.size(); ++i) {
    const std::string& a = args[i];
    bool long_option = a.size() > 2 && a.rfind("--", 0) == 0;
    bool short_option = a.size() == 2 && a[0] == '-' && a[1] != '-';  // -o FILE
    if (long_option || short_option) {
      std::string name = a.substr(long_option ? 2 : 1);
      std::optional<std::string> inline_value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        inline_value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      if (flags.count(name)) {
        parsed.values_[name] = "true";
        continue;
      }
      // One machine-output convention (docs/cli.md): --json and --format json mean the same.
      if (name == "json" && options.count("format")) {
        parsed.values_["format"] = "json";
        continue;
      }
      if (name == "format" && flags.count("json") && !options.count("format")) {
        std::string value;
        if (inline_value) {
          value = *inline_value;
        } else if (i + 1 < args.size()) {
          value = args[++i];
        } else {
          return Fail(Error("cli.usage", "option --format needs a value").at_field(name));
        }
        if (value != "json") {
          return Fail(
              Error("cli.usage",
                    "--format here accepts only json (alias of --json), not '" + value + "'")
                  .at_field(name));
        }
        parsed.values_["json"] = "true";
        continue;
      }
      if (!options.count(name)) {
        return Fail(Error("cli.usage", "unknown option --" + name).at_field(name));
      }
      if (inline_value) {
        parsed.values_[name] = *inline_value;
      } else if (i + 1 < args.size()) {
        parsed.values_[name] = args[++i];
      } else {
        return Fail(Error("cli.usage", "option --" + name + " needs a value").at_field(name));
      }
    } else {
      parsed.positionals_.push_back(a);
    }
  }
  return parsed;
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

Result<std::string> Args::required(const std::string& name) const {
  auto v = get(name);
  if (!v) return Fail(Error("cli.usage", "missing required option --" + name).at_field(name));
  return *v;
}

Result<std::optional<uint64_t>> Args::number(const std::string& name) const {
  auto v = get(name);
  if (!v) return std::optional<uint64_t>();
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || v->empty()) {
    return Fail(
        Error("cli.usage", "--" + name + " must be a non-negative integer, got '" + *v + "'")
            .at_field(name));
  }
  return std::optional<uint64_t>(n);
}

std::string Args::dir() const {
  if (auto d = get("dir")) return *d;
  if (const char* env = std::getenv("PEDIGREE_DIR"); env && *env) return env;
  return "pedigree-data";
}

void PrintJson(std::ostream& out, const JsonValue& value) { out << Canonicalize(value) << "\n"; }

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

int EmitReport(const Args& args, const JsonValue& report, CliIo& io,
               const std::string& default_format) {
  const std::string format = args.get("format").value_or(default_format);
  std::string text;
  if (format == "json") {
    text = Canonicalize(report) + "\n";
  } else if (format == "html") {
    text = reports::RenderHtml(report);
  } else if (format == "text") {
    text = reports::RenderText(report);
  } else {
    PrintError(io.err,
               Error("cli.usage", "--format must be json, text or html, not '" + format + "'")
                   .at_field("format"));
    return 2;
  }
  std::optional<std::string> path = args.get("o") ? args.get("o") : args.get("out");
  if (path && *path != "-") {
    std::ofstream file(*path, std::ios::binary | std::ios::trunc);
    if (!file || !(file << text) || !file.flush()) {
      return PrintError(io.err, Error("cli.io", "cannot write " + *path).at_field("o"));
    }
  } else {
    io.out << text;
  }
  const JsonValue* verdict = report.find("verdict");
  std::string v = verdict && verdict->is_string() ? verdict->as_string() : "";
  return v == "VERIFIED" ? 0 : v == "SUSPECT" ? 3 : 4;
}

int PrintError(std::ostream& err, const Error& error) {
  auto e = JsonValue::Object();
  e.set("code", JsonValue(error.code()));
  e.set("message", JsonValue(error.message()));
  if (!error.field().empty()) e.set("field", JsonValue(error.field()));
  const Location& loc = error.location();
  if (loc.line) e.set("line", JsonValue(static_cast<int64_t>(*loc.line)));
  if (loc.column) e.set("column", JsonValue(static_cast<int64_t>(*loc.column)));
  if (loc.offset) e.set("offset", JsonValue(static_cast<int64_t>(*loc.offset)));
  if (std::string_view next = NextStepFor(error.code()); !next.empty())
    e.set("nextStep", JsonValue(std::string(next)));
  for (const ErrorDetail& d : error.details())
    e.set(d.name, d.number ? JsonValue(*d.number) : JsonValue(d.text));
  auto wrapper = JsonValue::Object();
  wrapper.set("error", std::move(e));
  PrintJson(err, wrapper);
  // docs/cli.md: exit 2 for a usage error, whichever command finds it; 1 for a failed operation.
  return error.code() == "cli.usage" ? 2 : 1;
}

std::string CommandHelp(const Command& c) {
  std::string text = "usage: pedigree " + c.usage + "\n\noptions:\n" + c.options +
                     "  -h, --help     print this help\n";
  if (!c.example.empty()) text += "\nexample:\n  pedigree " + c.example + "\n";
  return text;
}

Result<std::optional<log::Policy>> PolicyOption(const Args& args, CliIo& io) {
  auto path = args.get("policy");
  if (!path) return std::optional<log::Policy>();
  PEDIGREE_ASSIGN(text, ReadInput(*path, io.in));
  auto policy = log::ParsePolicy(*text);
  if (!policy) return std::unexpected(policy.error().at_field("policy").with_context(*path));
  return std::optional<log::Policy>(*std::move(policy));
}

Result<std::string> ResolveVerifierKey(const std::string& value, const std::string& option) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(value, ec)) {
    std::ifstream file(value, std::ios::binary);
    std::ostringstream buffer;
    if (!file || !(buffer << file.rdbuf())) {
      return Fail(Error("cli.io", "cannot read " + value).at_field(option));
    }
    std::string text = buffer.str();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
      text.pop_back();
    if (auto parsed = log::NoteVerifier::Parse(text); !parsed) {
      return Fail(parsed.error().with_context("--" + option + " file " + value));
    }
    return text;
  }
  if (auto parsed = log::NoteVerifier::Parse(value); !parsed) {
    return Fail(Error("cli.usage", "--" + option + " '" + value +
                                       "' is neither a readable file nor a verifier key "
                                       "(name+hex+base64): " +
                                       parsed.error().message())
                    .at_field(option));
  }
  return value;
}

Result<std::string> ReadInput(const std::string& path, std::istream& in) {
  std::ostringstream buffer;
  if (path == "-") {
    buffer << in.rdbuf();
    return buffer.str();
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) return Fail(Error("cli.io", "cannot open " + path).at_field("file"));
  buffer << file.rdbuf();
  return buffer.str();
}

}  // namespace pedigree::services
