// The Application Identifier table: data transcribed from the GS1 General Specifications
// §3 and the GS1 Barcode Syntax Dictionary, one row per AI. The parser has no per-AI code.
#include <algorithm>
#include <array>

#include "gs1_internal.h"
#include "pedigree/scanner/gs1.h"

namespace pedigree::scanner {
namespace {

constexpr AiComponent N(int n, Check check = Check::kNone) {
  return {Charset::kNumeric, static_cast<unsigned char>(n), static_cast<unsigned char>(n), check};
}
constexpr AiComponent Nv(int max) {
  return {Charset::kNumeric, 1, static_cast<unsigned char>(max), Check::kNone};
}
constexpr AiComponent X(int max) {
  return {Charset::kCset82, 1, static_cast<unsigned char>(max), Check::kNone};
}
constexpr AiComponent Y(int max) {
  return {Charset::kCset39, 1, static_cast<unsigned char>(max), Check::kNone};
}
constexpr AiComponent Xopt(int max) {  // optional trailing component
  return {Charset::kCset82, 0, static_cast<unsigned char>(max), Check::kNone};
}

constexpr Check kCsum = Check::kCheckDigit;
constexpr Check kYymmd0 = Check::kDateDayZeroAllowed;
constexpr Check kYymmdd = Check::kDate;

// Product-context requirements shared by many AIs.
constexpr std::string_view kTradeItem = "01,02,8006,8026";

struct Row {
  std::string_view ai;
  bool predefined;
  std::array<AiComponent, 3> parts;
  int count;
  std::string_view req1;
  std::string_view req2;
  std::string_view ex;
  std::string_view title;
};

// clang-format off
constexpr Row kRows[] = {
  {"00",   true,  {N(18, kCsum)}, 1, "", "", "", "SSCC"},
  {"01",   true,  {N(14, kCsum)}, 1, "", "", "02,255,37", "GTIN"},
  {"02",   true,  {N(14, kCsum)}, 1, "37", "", "", "CONTENT"},
  {"10",   false, {X(20)}, 1, kTradeItem, "", "", "BATCH/LOT"},
  {"11",   true,  {N(6, kYymmd0)}, 1, kTradeItem, "", "", "PROD DATE"},
  {"13",   true,  {N(6, kYymmd0)}, 1, kTradeItem, "", "", "PACK DATE"},
  {"15",   true,  {N(6, kYymmd0)}, 1, kTradeItem, "", "", "BEST BEFORE"},
  {"16",   true,  {N(6, kYymmd0)}, 1, kTradeItem, "", "", "SELL BY"},
  {"17",   true,  {N(6, kYymmd0)}, 1, "01,02,255,8006,8026", "", "", "USE BY OR EXPIRY"},
  {"20",   true,  {N(2)}, 1, kTradeItem, "", "", "VARIANT"},
  {"21",   false, {X(20)}, 1, "01,8006", "", "235", "SERIAL"},
  {"22",   false, {X(20)}, 1, "01", "", "", "CPV"},
  {"235",  false, {X(28)}, 1, "01", "", "21", "TPX"},
  {"240",  false, {X(30)}, 1, kTradeItem, "", "", "ADDITIONAL ID"},
  {"241",  false, {X(30)}, 1, kTradeItem, "", "", "CUST. PART No."},
  {"250",  false, {X(30)}, 1, "01,8006", "21", "", "SECONDARY SERIAL"},
  {"254",  false, {X(20)}, 1, "414", "", "", "GLN EXTENSION COMPONENT"},
  {"30",   false, {Nv(8)}, 1, "01,02", "", "", "VAR. COUNT"},
  {"37",   false, {Nv(8)}, 1, "02,8026", "", "", "COUNT"},
  {"400",  false, {X(30)}, 1, "", "", "", "ORDER NUMBER"},
  {"401",  false, {X(30)}, 1, "", "", "", "GINC"},
  {"402",  false, {N(17, kCsum)}, 1, "", "", "", "GSIN"},
  {"410",  true,  {N(13, kCsum)}, 1, "", "", "", "SHIP TO LOC"},
  {"411",  true,  {N(13, kCsum)}, 1, "", "", "", "BILL TO"},
  {"412",  true,  {N(13, kCsum)}, 1, "", "", "", "PURCHASE FROM"},
  {"413",  true,  {N(13, kCsum)}, 1, "", "", "", "SHIP FOR LOC"},
  {"414",  true,  {N(13, kCsum)}, 1, "", "", "", "LOC No."},
  {"415",  true,  {N(13, kCsum)}, 1, "", "", "", "PAY TO"},
  {"416",  true,  {N(13, kCsum)}, 1, "", "", "", "PROD/SERV LOC"},
  {"417",  true,  {N(13, kCsum)}, 1, "", "", "", "PARTY"},
  {"422",  false, {N(3)}, 1, kTradeItem, "", "", "ORIGIN"},
  {"7003", false, {N(6, kYymmdd), N(4, Check::kTime)}, 2, "01,02", "", "", "EXPIRY TIME"},
  {"710",  false, {X(20)}, 1, "01", "", "", "NHRN PZN"},
  {"711",  false, {X(20)}, 1, "01", "", "", "NHRN CIP"},
  {"712",  false, {X(20)}, 1, "01", "", "", "NHRN CN"},
  {"713",  false, {X(20)}, 1, "01", "", "", "NHRN DRN"},
  {"714",  false, {X(20)}, 1, "01", "", "", "NHRN AIM"},
  {"715",  false, {X(20)}, 1, "01", "", "", "NHRN NDC"},
  {"8003", false, {N(1, Check::kZero), N(13, kCsum), Xopt(16)}, 3, "", "", "", "GRAI"},
  {"8004", false, {X(30)}, 1, "", "", "", "GIAI"},
  {"8006", false, {N(14, kCsum), N(4)}, 2, "", "", "01,37", "ITIP"},
  {"8010", false, {Y(30)}, 1, "", "", "", "CPID"},
  {"8018", false, {N(18, kCsum)}, 1, "", "", "8017", "GSRN - RECIPIENT"},
  {"90",   false, {X(30)}, 1, "", "", "", "INTERNAL"},
  {"91",   false, {X(90)}, 1, "", "", "", "INTERNAL"},
  {"92",   false, {X(90)}, 1, "", "", "", "INTERNAL"},
  {"93",   false, {X(90)}, 1, "", "", "", "INTERNAL"},
  {"94",   false, {X(90)}, 1, "", "", "", "INTERNAL"},
  {"95",   false, {X(90)}, 1, "", "", "", "INTERNAL"},
  {"96",   false, {X(90)}, 1, "", "", "", "INTERNAL"},
  {"97",   false, {X(90)}, 1, "", "", "", "INTERNAL"},
  {"98",   false, {X(90)}, 1, "", "", "", "INTERNAL"},
  {"99",   false, {X(90)}, 1, "", "", "", "INTERNAL"},
};
// clang-format on

std::vector<AiDefinition> BuildTable() {
  std::vector<AiDefinition> table;
  for (const Row& r : kRows) {
    AiDefinition d;
    d.ai = r.ai;
    d.title = r.title;
    d.predefined_length = r.predefined;
    for (int i = 0; i < r.count; ++i) d.components[i] = r.parts[i];
    d.component_count = r.count;
    d.requires_one_of[0] = r.req1;
    d.requires_one_of[1] = r.req2;
    d.excludes = r.ex;
    table.push_back(d);
  }
  std::sort(table.begin(), table.end(),
            [](const AiDefinition& a, const AiDefinition& b) { return a.ai < b.ai; });
  return table;
}

}  // namespace

const std::vector<AiDefinition>& AiTable() {
  static const std::vector<AiDefinition> table = BuildTable();
  return table;
}

const AiDefinition* FindAi(std::string_view ai) { return internal::FindAiByCode(ai); }

}  // namespace pedigree::scanner
