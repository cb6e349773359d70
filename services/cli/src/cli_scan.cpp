// `pedigree scan` (images or text to GS1 data) and `pedigree label` (render pack and
// case labels). Output is JSON: every symbol with its parsed fields or its error.
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli_common.h"
#include "pedigree/base/printable.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/scanner/gs1.h"
#include "pedigree/scanner/image.h"
#include "pedigree/scanner/label.h"
#include "pedigree/usecases/image_scan.h"
#include "pedigree/usecases/supply_node.h"

namespace pedigree::services {
namespace {

int Scan(const std::vector<std::string>& argv, CliIo& io) {
  // Output is always JSON; --json is accepted for the one convention (docs/cli.md).
  auto args = Args::Parse(argv, 1, {"string"}, {"json"});
  if (!args) return PrintError(io.err, args.error());
  auto out = JsonValue::Array();
  if (auto text = args->get("string")) {
    auto item = JsonValue::Object();
    item.set("input", JsonValue(*text));
    item.set("gs1", Gs1ReadingJson(*text));
    out.push_back(item);
    PrintJson(io.out, out);
    return 0;
  }
  if (args->positionals().empty())
    return PrintError(io.err, Error("cli.usage", "scan FILE|- or scan --string TEXT"));
  auto bytes = ReadInput(args->positionals()[0], io.in);
  if (!bytes) return PrintError(io.err, bytes.error());
  if (!scanner::SniffImageType(AsBytes(*bytes)).empty()) {
    auto image = scanner::LoadImageMemory(AsBytes(*bytes));
    if (!image) return PrintError(io.err, image.error());
    auto symbols = scanner::DecodeImage(*image, ScanDecodeOptions());
    if (!symbols) return PrintError(io.err, symbols.error());
    for (const auto& s : *symbols) out.push_back(DecodedSymbolJson(s));
  } else {
    // Text: one scanner read per line (as a keyboard-wedge scanner types them).
    std::istringstream lines(*bytes);
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      auto item = JsonValue::Object();
      item.set("input", JsonValue(line));
      item.set("gs1", Gs1ReadingJson(line));
      out.push_back(item);
    }
  }
  PrintJson(io.out, out);
  return 0;
}

// The image formats `label -o` writes, by file extension.
constexpr const char* kLabelFormats = ".png, .jpg or .jpeg";

bool IsLabelExtension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// A serial as a file name: [A-Za-z0-9_-] kept, every other byte (GS1 serials may hold
// "/", "." and other punctuation) as %XX, so distinct serials give distinct names.
std::string SerialFileName(std::string_view serial) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : serial) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '_' || c == '-') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

JsonValue LabelJson(const std::string& file, const scanner::Image& image) {
  auto o = JsonValue::Object();
  o.set("file", JsonValue(file));
  o.set("width", JsonValue(int64_t{image.width}));
  o.set("height", JsonValue(int64_t{image.height}));
  return o;
}

// `label --from-commission INDEX -o DIR`: one pack label per serial of the commission
// entry at INDEX, named <serial>.<format> in DIR (created if missing). Every file is
// checked before any is written: none is overwritten, and a refusal writes nothing.
int LabelsFromCommission(const Args& args, const std::string& index_text,
                         const std::string& out_dir, const scanner::SymbolGeometry& geometry,
                         CliIo& io) {
  auto index = args.number("from-commission");
  if (!index) return PrintError(io.err, index.error());
  const std::string format = args.get("format").value_or("png");
  if (format != "png" && format != "jpg" && format != "jpeg") {
    return PrintError(io.err,
                      Error("cli.usage", "--format \"" + format + "\" is not one of png, jpg, jpeg")
                          .at_field("format"));
  }
  auto node = SupplyNode::Open(args.dir());
  if (!node) return PrintError(io.err, node.error());
  auto entry = (*node)->ledger().Entry(**index);
  if (!entry) return PrintError(io.err, entry.error().at_field("from-commission"));
  auto envelope = ParseJson(*entry);
  if (!envelope) return PrintError(io.err, envelope.error());
  const JsonValue* payload = envelope->find("payload");
  const JsonValue* kind = payload ? payload->find("kind") : nullptr;
  if (!kind || !kind->is_string() || kind->as_string() != "commission") {
    return PrintError(io.err,
                      Error("label.not_commission",
                            "ledger entry " + index_text + " is " +
                                (kind && kind->is_string() ? "kind " + Printable(kind->as_string())
                                                           : "not a supply-chain event") +
                                ", not a commission")
                          .at_field("from-commission"));
  }
  const JsonValue* gtin = payload->find("gtin");
  const JsonValue* lot = payload->find("lot");
  const JsonValue* serials = payload->find("serials");
  if (!gtin || !gtin->is_string() || !lot || !lot->is_string() || !serials ||
      !serials->is_array()) {
    return PrintError(io.err, Error("label.not_commission",
                                    "ledger entry " + index_text + " has no gtin, lot and serials")
                                  .at_field("from-commission"));
  }
  auto batch = (*node)->Read(
      [&](provenance::ProvenanceView& v) { return v.Batch(gtin->as_string(), lot->as_string()); });
  if (!batch) return PrintError(io.err, batch.error());
  if (!*batch) {
    return PrintError(io.err, Error("cli.internal", "commission " + index_text + " names batch " +
                                                        lot->as_string() + " the ledger lacks"));
  }
  const std::chrono::year_month_day expiry = (*batch)->expiry;
  auto two = [](int n) { return std::string(1, char('0' + n / 10 % 10)) + char('0' + n % 10); };
  const std::string yymmdd = two(static_cast<int>(expiry.year()) % 100) +
                             two(static_cast<int>(static_cast<unsigned>(expiry.month()))) +
                             two(static_cast<int>(static_cast<unsigned>(expiry.day())));
  std::vector<std::pair<std::string, std::string>> jobs;  // serial, file
  for (const JsonValue& serial : serials->as_array()) {
    const std::string file =
        (std::filesystem::path(out_dir) / (SerialFileName(serial.as_string()) + "." + format))
            .string();
    if (std::filesystem::exists(file) || std::filesystem::is_symlink(file)) {
      return PrintError(io.err, Error("cli.usage", file + " already exists; labels are not "
                                                          "overwritten (nothing was written)")
                                    .at_field("out"));
    }
    jobs.emplace_back(serial.as_string(), file);
  }
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) {
    return PrintError(
        io.err, Error("cli.io", "cannot create " + out_dir + ": " + ec.message()).at_field("out"));
  }
  auto files = JsonValue::Array();
  for (const auto& [serial, file] : jobs) {
    auto image =
        scanner::RenderFmdPackLabel(gtin->as_string(), yymmdd, lot->as_string(), serial, geometry);
    if (!image) return PrintError(io.err, image.error());
    if (auto ok = scanner::WriteImageFile(*image, file, /*exclusive=*/true); !ok) {
      return PrintError(io.err, ok.error());
    }
    files.push_back(LabelJson(file, *image));
  }
  auto o = JsonValue::Object();
  o.set("commission", JsonValue(static_cast<int64_t>(**index)));
  o.set("labels", files);
  PrintJson(io.out, o);
  return 0;
}

int Label(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 1,
                          {"gtin", "serial", "lot", "expiry", "sscc", "out", "o", "module-px",
                           "from-commission", "dir", "format"},
                          {"json"});
  if (!args) return PrintError(io.err, args.error());
  auto out_path = args->has("o") ? Result<std::string>(*args->get("o")) : args->required("out");
  if (!out_path) return PrintError(io.err, out_path.error());
  auto module = args->number("module-px");
  if (!module) return PrintError(io.err, module.error());
  scanner::SymbolGeometry geometry;
  if (*module) geometry.module_px = static_cast<int>(**module);
  if (auto index = args->get("from-commission")) {
    return LabelsFromCommission(*args, *index, *out_path, geometry, io);
  }
  if (!IsLabelExtension(*out_path)) {
    return PrintError(io.err, Error("cli.usage", "-o " + *out_path +
                                                     ": the extension names the image format, "
                                                     "one of " +
                                                     kLabelFormats)
                                  .at_field("out"));
  }
  Result<scanner::Image> image =
      Fail("cli.usage", "label needs --gtin/--serial/--lot/--expiry, --sscc or --from-commission");
  if (auto sscc = args->get("sscc")) {
    geometry.quiet_zone_modules = 10;
    if (!*module) geometry.module_px = 3;
    image = scanner::RenderSsccLabel(*sscc, geometry);
  } else {
    for (const char* required : {"gtin", "serial", "lot", "expiry"}) {
      if (!args->has(required)) {
        return PrintError(io.err,
                          Error("cli.usage", std::string("missing required option --") + required)
                              .at_field(required));
      }
    }
    std::string expiry = *args->get("expiry");
    // Accept YYYY-MM-DD as well as the YYMMDD the symbol carries.
    if (expiry.size() == 10 && expiry[4] == '-' && expiry[7] == '-') {
      expiry = expiry.substr(2, 2) + expiry.substr(5, 2) + expiry.substr(8, 2);
    }
    auto gtin = provenance::Gtin::Parse(*args->get("gtin"));
    if (!gtin) return PrintError(io.err, gtin.error().at_field("gtin"));
    image = scanner::RenderFmdPackLabel(gtin->value(), expiry, *args->get("lot"),
                                        *args->get("serial"), geometry);
  }
  if (!image) return PrintError(io.err, image.error());
  if (auto ok = scanner::WriteImageFile(*image, *out_path); !ok) {
    return PrintError(io.err, ok.error());
  }
  PrintJson(io.out, LabelJson(*out_path, *image));
  return 0;
}

// `pedigree gs1 …`: GS1 key helpers (GenSpecs §7.9.1 check digit; §2.2.1 SSCC; §2.4.1 GLN).
bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

char CheckDigitOf(std::string_view digits) {
  return static_cast<char>('0' + provenance::Gs1CheckDigit(digits));
}

Error Usage(const std::string& message) { return Error("cli.usage", message); }

// Prints `key` alone, or {"key":…, plus `extra`} with --json.
int PrintKey(const Args& args, CliIo& io, const std::string& key, JsonValue extra) {
  if (args.has("json")) {
    extra.set("key", JsonValue(key));
    PrintJson(io.out, extra);
  } else {
    io.out << key << "\n";
  }
  return 0;
}

int Gs1CheckDigit(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 2, {}, {"verify", "json"});
  if (!args) return PrintError(io.err, args.error());
  if (args->positionals().size() != 1) {
    return PrintError(io.err, Usage("gs1 check-digit DIGITS [--verify] [--json]"));
  }
  const std::string& digits = args->positionals()[0];
  // GS1 keys with a mod-10 check digit have 8 (GTIN-8) to 18 (SSCC, GSRN) digits.
  const size_t min = args->has("verify") ? 2 : 1, max = args->has("verify") ? 18 : 17;
  if (!AllDigits(digits) || digits.size() < min || digits.size() > max) {
    return PrintError(io.err, Usage("gs1 check-digit takes " + std::to_string(min) + " to " +
                                    std::to_string(max) + " digits, got '" + digits + "'")
                                  .at_field("DIGITS"));
  }
  if (!args->has("verify")) {
    auto extra = JsonValue::Object();
    extra.set("checkDigit", JsonValue(std::string(1, CheckDigitOf(digits))));
    return PrintKey(*args, io, digits + CheckDigitOf(digits), extra);
  }
  std::string_view body(digits.data(), digits.size() - 1);
  char expected = CheckDigitOf(body);
  if (expected != digits.back()) {
    return PrintError(io.err, Error("gs1.check_digit", "'" + digits + "' has check digit " +
                                                           std::string(1, digits.back()) +
                                                           ", expected " + std::string(1, expected))
                                  .at_field("DIGITS")
                                  .at_offset(digits.size() - 1));
  }
  auto extra = JsonValue::Object();
  extra.set("valid", JsonValue(true));
  return PrintKey(*args, io, digits, extra);
}

// GS1 Company Prefix (4 to 12 digits: GenSpecs §1.4.4) plus a reference of the digits left
// in a key of `body_length` digits before the check digit, left-padded with zeros.
Result<std::string> KeyBody(const Args& args, const std::string& reference_option,
                            size_t body_length, size_t key_length, const std::string& what) {
  auto prefix = args.required("prefix");
  if (!prefix) return std::unexpected(prefix.error());
  auto reference = args.required(reference_option);
  if (!reference) return std::unexpected(reference.error());
  if (!AllDigits(*prefix) || prefix->size() < 4 || prefix->size() > 12) {
    return Fail(
        Usage("--prefix must be a GS1 Company Prefix of 4 to 12 digits, got '" + *prefix + "'")
            .at_field("prefix"));
  }
  size_t room = body_length - prefix->size();
  if (!AllDigits(*reference) || reference->size() > room) {
    return Fail(Usage("--" + reference_option + " must be 1 to " + std::to_string(room) +
                      " digits with a " + std::to_string(prefix->size()) + "-digit prefix (the " +
                      what + " has " + std::to_string(key_length) + " digits), got '" + *reference +
                      "'")
                    .at_field(reference_option));
  }
  return *prefix + std::string(room - reference->size(), '0') + *reference;
}

int Gs1Sscc(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 2, {"prefix", "serial", "extension"}, {"json"});
  if (!args) return PrintError(io.err, args.error());
  std::string extension = args->get("extension").value_or("0");
  if (extension.size() != 1 || !AllDigits(extension)) {
    return PrintError(
        io.err,
        Usage("--extension must be one digit, got '" + extension + "'").at_field("extension"));
  }
  auto body = KeyBody(*args, "serial", 16, 18, "SSCC");
  if (!body) return PrintError(io.err, body.error());
  std::string sscc = extension + *body;
  sscc.push_back(CheckDigitOf(sscc));
  return PrintKey(*args, io, sscc, JsonValue::Object());
}

int Gs1Gln(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 2, {"prefix", "location"}, {"json"});
  if (!args) return PrintError(io.err, args.error());
  auto body = KeyBody(*args, "location", 12, 13, "GLN");
  if (!body) return PrintError(io.err, body.error());
  std::string gln = *body;
  gln.push_back(CheckDigitOf(gln));
  return PrintKey(*args, io, gln, JsonValue::Object());
}

}  // namespace

std::vector<Command> ScanCommands() {
  return {
      {"scan",
       "scan FILE|- | scan --string TEXT       barcodes in an image, or scanner reads, as JSON",
       Scan,
       "  FILE|-         an image (PNG, JPEG, BMP, GIF, PGM/PPM) or text, one scanner read\n"
       "                 per line (- for standard input)\n"
       "  --string TEXT  parse one scanner read given here instead\n"
       "  --json         accepted; the output is always JSON\n",
       "scan label.png"},
      {"label",
       "label --gtin G --serial S --lot L --expiry YYMMDD -o F.png|.jpg | label --sscc S -o F.png"
       " | label --from-commission INDEX -o DIR [--format png|jpg]",
       Label,
       "  --gtin G --serial S --lot L --expiry YYMMDD|YYYY-MM-DD\n"
       "                 a pack's GS1 DataMatrix label\n"
       "  --sscc S       a case's or pallet's GS1-128 label instead\n"
       "  --from-commission INDEX\n"
       "                 one label per pack of the commission entry at INDEX (needs --dir)\n"
       "  -o FILE, --out FILE\n"
       "                 the image (.png or .jpg), or a directory with --from-commission\n"
       "                 (required)\n"
       "  --format F     png or jpg, for --from-commission (default: png)\n"
       "  --module-px N  pixels per module (default: 4 for DataMatrix, 3 for GS1-128)\n"
       "  --json         accepted; the output is always JSON\n" +
           kDirHelp,
       "label --gtin 09506000134352 --serial A1 --lot L001 --expiry 2027-12-31 -o a1.png"},
      {"gs1 check-digit", "gs1 check-digit DIGITS [--verify] [--json]   GS1 mod-10 check digit",
       Gs1CheckDigit,
       "  DIGITS         a GS1 key without its check digit (or with it, for --verify)\n"
       "  --verify       check the last digit instead of computing one (exit 1 if wrong)\n" +
           kJsonHelp,
       "gs1 check-digit 950600013435"},
      {"gs1 sscc", "gs1 sscc --prefix GCP --serial N [--extension D] [--json]   build an SSCC",
       Gs1Sscc,
       "  --prefix GCP   the GS1 company prefix (required)\n"
       "  --serial N     the serial reference, padded to fill the key (required)\n"
       "  --extension D  the extension digit (default: 0)\n" +
           kJsonHelp,
       "gs1 sscc --prefix 9506000 --serial 17"},
      {"gs1 gln", "gs1 gln --prefix GCP --location N [--json]   build a GLN", Gs1Gln,
       "  --prefix GCP   the GS1 company prefix (required)\n"
       "  --location N   the location reference, padded to fill the key (required)\n" +
           kJsonHelp,
       "gs1 gln --prefix 9506000 --location 1"},
  };
}

}  // namespace pedigree::services
