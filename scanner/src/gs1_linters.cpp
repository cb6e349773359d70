// The GS1 Barcode Syntax Dictionary's linters ("GS1 Barcode Syntax Tests"), each written from
// its published definition. A linter sees one component of an AI's value.
#include <algorithm>
#include <cstdint>
#include <string>

#include "gs1_internal.h"
#include "pedigree/provenance/identifiers.h"

namespace pedigree::scanner::internal {
namespace {

using provenance::IsDigit;

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

int Number(std::string_view digits) {
  int n = 0;
  for (char c : digits) n = n * 10 + (c - '0');
  return n;
}

template <size_t N>
bool InSortedList(const std::string_view (&list)[N], std::string_view code) {
  return std::binary_search(std::begin(list), std::end(list), code);
}

// ISO 3166-1 numeric country codes ("num-3").
constexpr std::string_view kIso3166[] = {
    "004", "008", "010", "012", "016", "020", "024", "028", "031", "032", "036", "040", "044",
    "048", "050", "051", "052", "056", "060", "064", "068", "070", "072", "074", "076", "084",
    "086", "090", "092", "096", "100", "104", "108", "112", "116", "120", "124", "132", "136",
    "140", "144", "148", "152", "156", "158", "162", "166", "170", "174", "175", "178", "180",
    "184", "188", "191", "192", "196", "203", "204", "208", "212", "214", "218", "222", "226",
    "231", "232", "233", "234", "238", "239", "242", "246", "248", "250", "254", "258", "260",
    "262", "266", "268", "270", "275", "276", "288", "292", "296", "300", "304", "308", "312",
    "316", "320", "324", "328", "332", "334", "336", "340", "344", "348", "352", "356", "360",
    "364", "368", "372", "376", "380", "384", "388", "392", "398", "400", "404", "408", "410",
    "414", "417", "418", "422", "426", "428", "430", "434", "438", "440", "442", "446", "450",
    "454", "458", "462", "466", "470", "474", "478", "480", "484", "492", "496", "498", "499",
    "500", "504", "508", "512", "516", "520", "524", "528", "531", "533", "534", "535", "540",
    "548", "554", "558", "562", "566", "570", "574", "578", "580", "581", "583", "584", "585",
    "586", "591", "598", "600", "604", "608", "612", "616", "620", "624", "626", "630", "634",
    "638", "642", "643", "646", "652", "654", "659", "660", "662", "663", "666", "670", "674",
    "678", "682", "686", "688", "690", "694", "702", "703", "704", "705", "706", "710", "716",
    "724", "728", "729", "732", "740", "744", "748", "752", "756", "760", "762", "764", "768",
    "772", "776", "780", "784", "788", "792", "795", "796", "798", "800", "804", "807", "818",
    "826", "831", "832", "833", "834", "840", "850", "854", "858", "860", "862", "876", "882",
    "887", "894"};

// ISO 3166-1 alpha-2 country codes.
constexpr std::string_view kIso3166Alpha2[] = {
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW"};

// ISO 4217 numeric currency codes.
constexpr std::string_view kIso4217[] = {
    "008", "012", "032", "036", "044", "048", "050", "051", "052", "060", "064", "068", "072",
    "084", "090", "096", "104", "108", "116", "124", "132", "136", "144", "152", "156", "170",
    "174", "188", "191", "192", "203", "208", "214", "222", "230", "232", "238", "242", "262",
    "270", "292", "320", "324", "328", "332", "340", "344", "348", "352", "356", "360", "364",
    "368", "376", "388", "392", "398", "400", "404", "408", "410", "414", "417", "418", "422",
    "426", "430", "434", "446", "454", "458", "462", "480", "484", "496", "498", "504", "512",
    "516", "524", "532", "533", "548", "554", "558", "566", "578", "586", "590", "598", "600",
    "604", "608", "634", "643", "646", "654", "682", "690", "694", "702", "704", "706", "710",
    "728", "748", "752", "756", "760", "764", "776", "780", "784", "788", "800", "807", "818",
    "826", "834", "840", "858", "860", "882", "886", "901", "925", "927", "928", "929", "930",
    "931", "932", "933", "934", "936", "938", "940", "941", "943", "944", "946", "947", "948",
    "949", "950", "951", "952", "953", "955", "956", "957", "958", "959", "960", "961", "962",
    "963", "964", "965", "967", "968", "969", "970", "971", "972", "973", "975", "976", "977",
    "978", "979", "980", "981", "984", "985", "986", "990", "994", "997", "999"};

// GS1 PackageTypeCode list (UN/ECE Recommendation 21 with GS1 additions), sorted bytewise.
constexpr std::string_view kPackageTypes[] = {
    "1A",  "1B",  "1D",  "1F", "1G",  "1W",  "200", "201", "202", "203", "204", "205", "206", "210",
    "211", "212", "2C",  "3A", "3H",  "43",  "44",  "4A",  "4B",  "4C",  "4D",  "4F",  "4G",  "4H",
    "5H",  "5L",  "5M",  "6H", "6P",  "7A",  "7B",  "8",   "8A",  "8B",  "8C",  "9",   "AA",  "AB",
    "AC",  "AD",  "AF",  "AG", "AH",  "AI",  "AJ",  "AL",  "AM",  "AP",  "APE", "AT",  "AV",  "B4",
    "BB",  "BC",  "BD",  "BE", "BF",  "BG",  "BGE", "BH",  "BI",  "BJ",  "BK",  "BL",  "BM",  "BME",
    "BN",  "BO",  "BP",  "BQ", "BR",  "BRI", "BS",  "BT",  "BU",  "BV",  "BW",  "BX",  "BY",  "BZ",
    "CA",  "CB",  "CBL", "CC", "CCE", "CD",  "CE",  "CF",  "CG",  "CH",  "CI",  "CJ",  "CK",  "CL",
    "CM",  "CN",  "CO",  "CP", "CQ",  "CR",  "CS",  "CT",  "CU",  "CV",  "CW",  "CX",  "CY",  "CZ",
    "DA",  "DB",  "DC",  "DG", "DH",  "DI",  "DJ",  "DK",  "DL",  "DM",  "DN",  "DP",  "DPE", "DR",
    "DS",  "DT",  "DU",  "DV", "DW",  "DX",  "DY",  "E1",  "E2",  "E3",  "EC",  "ED",  "EE",  "EF",
    "EG",  "EH",  "EI",  "EN", "FB",  "FC",  "FD",  "FE",  "FI",  "FL",  "FO",  "FOB", "FP",  "FPE",
    "FR",  "FT",  "FW",  "FX", "GB",  "GI",  "GL",  "GR",  "GU",  "GY",  "GZ",  "HA",  "HB",  "HC",
    "HG",  "HN",  "HR",  "IA", "IB",  "IC",  "ID",  "IE",  "IF",  "IG",  "IH",  "IK",  "IL",  "IN",
    "IZ",  "JB",  "JC",  "JG", "JR",  "JT",  "JY",  "KG",  "KI",  "LAB", "LE",  "LG",  "LT",  "LU",
    "LV",  "LZ",  "MA",  "MB", "MC",  "ME",  "MPE", "MR",  "MS",  "MT",  "MW",  "MX",  "NA",  "NE",
    "NF",  "NG",  "NS",  "NT", "NU",  "NV",  "OA",  "OB",  "OC",  "OD",  "OE",  "OF",  "OK",  "OPE",
    "OT",  "OU",  "P2",  "PA", "PAE", "PB",  "PC",  "PD",  "PE",  "PF",  "PG",  "PH",  "PI",  "PJ",
    "PK",  "PL",  "PLP", "PN", "PO",  "POP", "PP",  "PPE", "PR",  "PT",  "PU",  "PUE", "PV",  "PX",
    "PY",  "PZ",  "QA",  "QB", "QC",  "QD",  "QF",  "QG",  "QH",  "QJ",  "QK",  "QL",  "QM",  "QN",
    "QP",  "QQ",  "QR",  "QS", "RB1", "RB2", "RB3", "RCB", "RD",  "RG",  "RJ",  "RK",  "RL",  "RO",
    "RT",  "RZ",  "S1",  "SA", "SB",  "SC",  "SD",  "SE",  "SEC", "SH",  "SI",  "SK",  "SL",  "SM",
    "SO",  "SP",  "SS",  "ST", "STL", "SU",  "SV",  "SW",  "SX",  "SY",  "SZ",  "T1",  "TB",  "TC",
    "TD",  "TE",  "TEV", "TG", "THE", "TI",  "TK",  "TL",  "TN",  "TO",  "TR",  "TRE", "TS",  "TT",
    "TTE", "TU",  "TV",  "TW", "TWE", "TY",  "TZ",  "UC",  "UN",  "UUE", "VA",  "VG",  "VI",  "VK",
    "VL",  "VN",  "VO",  "VP", "VQ",  "VR",  "VS",  "VY",  "WA",  "WB",  "WC",  "WD",  "WF",  "WG",
    "WH",  "WJ",  "WK",  "WL", "WM",  "WN",  "WP",  "WQ",  "WR",  "WRP", "WS",  "WT",  "WU",  "WV",
    "WW",  "WX",  "WY",  "WZ", "X11", "X12", "X15", "X16", "X17", "X18", "X19", "X20", "X3",  "XA",
    "XB",  "XC",  "XD",  "XF", "XG",  "XH",  "XJ",  "XK",  "YA",  "YB",  "YC",  "YD",  "YF",  "YG",
    "YH",  "YJ",  "YK",  "YL", "YM",  "YN",  "YP",  "YQ",  "YR",  "YS",  "YT",  "YV",  "YW",  "YX",
    "YY",  "YZ",  "ZA",  "ZB", "ZC",  "ZD",  "ZF",  "ZG",  "ZH",  "ZJ",  "ZK",  "ZL",  "ZM",  "ZN",
    "ZP",  "ZQ",  "ZR",  "ZS", "ZT",  "ZU",  "ZV",  "ZW",  "ZX",  "ZY",  "ZZ"};

LintFault Fault(std::string_view code, std::string message, size_t pos) {
  return LintFault{code, std::move(message), pos};
}

int Gs1Mod10(std::string_view digits) {
  int sum = 0;
  int weight = 3;
  for (size_t i = digits.size(); i-- > 0;) {
    sum += (digits[i] - '0') * weight;
    weight = 4 - weight;
  }
  return (10 - sum % 10) % 10;
}

// GenSpecs §7.9.5 (GMN check character pair): CSET 82 values weighted by primes from the
// right, sum mod 1021, written as two CSET 32 characters.
constexpr std::string_view kCset82Order =
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kCset32 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
constexpr int kPrimes[] = {2,  3,  5,  7,  11, 13, 17, 19, 23, 29, 31, 37, 41,
                           43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97};

std::optional<LintFault> CsumAlpha(std::string_view s) {
  if (s.size() < 2)
    return Fault("gs1.check_digit", "is too short to hold a check character pair", 0);
  size_t n = s.size() - 2;
  if (n > std::size(kPrimes))
    return Fault("gs1.check_digit", "is too long for a check character pair", 0);
  int sum = 0;
  for (size_t i = 0; i < n; ++i) {
    size_t v = kCset82Order.find(s[i]);
    if (v == std::string_view::npos)
      return Fault("gs1.charset", "holds a character outside CSET 82", i);
    sum += static_cast<int>(v) * kPrimes[n - 1 - i];
  }
  sum %= 1021;
  char c1 = kCset32[static_cast<size_t>(sum >> 5)];
  char c2 = kCset32[static_cast<size_t>(sum & 31)];
  if (s[n] != c1 || s[n + 1] != c2) {
    return Fault("gs1.check_digit",
                 "has check characters '" + std::string(s.substr(n)) + "', expected '" +
                     std::string{c1, c2} + "'",
                 n);
  }
  return std::nullopt;
}

std::optional<LintFault> Gcp(std::string_view s, size_t start) {
  // GenSpecs §1.4.4: the shortest GS1 Company Prefix has 4 digits.
  constexpr size_t kMinGcp = 4;
  if (s.size() < start + kMinGcp) {
    return Fault("gs1.invalid_value", "is too short to start with a GS1 Company Prefix", 0);
  }
  for (size_t i = start; i < start + kMinGcp; ++i) {
    if (!IsDigit(s[i])) {
      return Fault("gs1.invalid_value", "does not start with a GS1 Company Prefix (digits)", i);
    }
  }
  return std::nullopt;
}

std::optional<LintFault> DateYymmdd(std::string_view s, bool allow_day_zero, int reference_year) {
  if (s.size() != 6 || !AllDigits(s)) return Fault("gs1.date", "is not a YYMMDD date", 0);
  auto date = provenance::ParseGs1Date(s, reference_year, allow_day_zero);
  if (!date)
    return Fault("gs1.date", date.error().message(), date.error().location().offset.value_or(0));
  return std::nullopt;
}

std::optional<LintFault> DateYyyymmdd(std::string_view s, bool allow_day_zero = false) {
  if (s.size() != 8 || !AllDigits(s)) return Fault("gs1.date", "is not a YYYYMMDD date", 0);
  if (allow_day_zero && s.substr(6) == "00") {
    int month = Number(s.substr(4, 2));
    if (month < 1 || month > 12) {
      return Fault("gs1.date", "has month " + std::string(s.substr(4, 2)) + ", not 01 to 12", 4);
    }
    return std::nullopt;
  }
  int y = Number(s.substr(0, 4)), m = Number(s.substr(4, 2)), d = Number(s.substr(6, 2));
  static constexpr int kDays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12)
    return Fault("gs1.date", "has month " + std::string(s.substr(4, 2)) + ", not 01 to 12", 4);
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int max = m == 2 && !leap ? 28 : kDays[m];
  if (d < 1 || d > max) {
    return Fault("gs1.date",
                 "has day " + std::string(s.substr(6, 2)) + ", which month " +
                     std::string(s.substr(4, 2)) + " of " + std::string(s.substr(0, 4)) +
                     " does not have",
                 6);
  }
  return std::nullopt;
}

std::optional<LintFault> TwoDigitsAtMost(std::string_view s, int max, const char* what) {
  if (s.size() != 2 || !AllDigits(s) || Number(s) > max) {
    return Fault("gs1.date",
                 std::string("is not a valid ") + what + " (00 to " + std::to_string(max) + ")", 0);
  }
  return std::nullopt;
}

std::optional<LintFault> Iban(std::string_view s) {
  // ISO 13616: country code, two check digits, up to 30 alphanumerics; mod 97 == 1.
  if (s.size() < 4) return Fault("gs1.invalid_value", "is too short for an IBAN", 0);
  if (!InSortedList(kIso3166Alpha2, s.substr(0, 2))) {
    return Fault("gs1.invalid_value", "does not start with an ISO 3166 country code", 0);
  }
  if (s.size() > 34) return Fault("gs1.invalid_value", "is longer than an IBAN (34)", 0);
  if (s.size() <= 10) return Fault("gs1.invalid_value", "is too short for an IBAN", 0);
  unsigned sum = 0;
  for (size_t k = 0; k < s.size(); ++k) {
    size_t i = (k + 4) % s.size();
    char c = s[i];
    unsigned v;
    if (c >= '0' && c <= '9') {
      v = static_cast<unsigned>(c - '0');
      sum = (sum * 10 + v) % 97;
    } else if (c >= 'A' && c <= 'Z') {
      v = static_cast<unsigned>(c - 'A' + 10);
      sum = (sum * 100 + v) % 97;
    } else {
      return Fault("gs1.invalid_value", "holds a character an IBAN does not allow", i);
    }
  }
  if (sum != 1)
    return Fault("gs1.check_digit", "has wrong IBAN check digits " + std::string(s.substr(2, 2)),
                 2);
  return std::nullopt;
}

// North American coupon codes. `p` walks the data; each field follows its published layout.
struct Cursor {
  std::string_view s;
  size_t p = 0;
  bool AtEnd() const { return p >= s.size(); }
  char Peek() const { return s[p]; }
  size_t Left() const { return s.size() - p; }
};

std::optional<LintFault> Coupon(const char* what, size_t pos) {
  return Fault("gs1.invalid_value", std::string("is not a valid coupon code: ") + what, pos);
}

// A VLI digit v in [lo, hi] followed by v + add characters (0 when v == skip).
std::optional<LintFault> VliField(Cursor& c, char lo, char hi, int add, const char* what, bool gcp,
                                  char skip = 0) {
  if (c.AtEnd()) return Coupon(what, c.p);
  char v = c.Peek();
  if ((v < lo || v > hi) && v != skip) return Coupon(what, c.p);
  size_t len = v == skip && skip ? 0 : static_cast<size_t>(v - '0' + add);
  ++c.p;
  if (c.Left() < len) return Coupon(what, c.p);
  if (gcp && len > 0) {
    if (auto f = Gcp(c.s.substr(c.p, len), 0)) return Coupon(what, c.p);
  }
  c.p += len;
  return std::nullopt;
}

std::optional<LintFault> CouponCode(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (!IsDigit(s[i])) return Coupon("non-digit", i);
  }
  Cursor c{s};
  if (auto f = VliField(c, '0', '6', 6, "GS1 Company Prefix", true)) return f;
  if (c.Left() < 6) return Coupon("offer code", c.p);
  c.p += 6;
  if (auto f = VliField(c, '1', '5', 0, "save value", false)) return f;
  if (auto f = VliField(c, '1', '5', 0, "first purchase requirement", false)) return f;
  if (c.AtEnd() || (c.Peek() > '4' && c.Peek() != '9'))
    return Coupon("purchase requirement code", c.p);
  ++c.p;
  if (c.Left() < 3) return Coupon("purchase family code", c.p);
  c.p += 3;
  if (!c.AtEnd() && c.Peek() == '1') {  // optional field 1: additional rules, 2nd purchase
    ++c.p;
    if (c.AtEnd() || c.Peek() > '3') return Coupon("additional purchase rules code", c.p);
    ++c.p;
    if (auto f = VliField(c, '1', '5', 0, "second purchase requirement", false)) return f;
    if (c.AtEnd() || (c.Peek() > '4' && c.Peek() != '9'))
      return Coupon("second purchase requirement code", c.p);
    ++c.p;
    if (c.Left() < 3) return Coupon("second purchase family code", c.p);
    c.p += 3;
    if (auto f = VliField(c, '0', '6', 6, "second purchase GS1 Company Prefix", true, '9'))
      return f;
  }
  if (!c.AtEnd() && c.Peek() == '2') {  // optional field 2: 3rd purchase
    ++c.p;
    if (auto f = VliField(c, '1', '5', 0, "third purchase requirement", false)) return f;
    if (c.AtEnd() || (c.Peek() > '4' && c.Peek() != '9'))
      return Coupon("third purchase requirement code", c.p);
    ++c.p;
    if (c.Left() < 3) return Coupon("third purchase family code", c.p);
    c.p += 3;
    if (auto f = VliField(c, '0', '6', 6, "third purchase GS1 Company Prefix", true, '9')) return f;
  }
  std::string_view expiry;
  if (!c.AtEnd() && c.Peek() == '3') {  // optional field 3: expiration date
    ++c.p;
    if (c.Left() < 6 || DateYymmdd(s.substr(c.p, 6), false, 2000))
      return Coupon("expiration date", c.p);
    expiry = s.substr(c.p, 6);
    c.p += 6;
  }
  if (!c.AtEnd() && c.Peek() == '4') {  // optional field 4: start date
    ++c.p;
    if (c.Left() < 6 || DateYymmdd(s.substr(c.p, 6), false, 2000)) return Coupon("start date", c.p);
    if (!expiry.empty() && s.substr(c.p, 6) > expiry) return Coupon("expiration before start", c.p);
    c.p += 6;
  }
  if (!c.AtEnd() && c.Peek() == '5') {  // optional field 5: serial number
    ++c.p;
    if (auto f = VliField(c, '0', '9', 6, "serial number", false)) return f;
  }
  if (!c.AtEnd() && c.Peek() == '6') {  // optional field 6: retailer GCP/GLN
    ++c.p;
    if (auto f = VliField(c, '1', '7', 6, "retailer GS1 Company Prefix or GLN", true)) return f;
  }
  if (!c.AtEnd() && c.Peek() == '9') {  // optional field 9: miscellaneous
    ++c.p;
    if (c.AtEnd() || std::string_view("01256").find(c.Peek()) == std::string_view::npos) {
      return Coupon("save value code", c.p);
    }
    ++c.p;
    if (c.AtEnd() || c.Peek() > '2') return Coupon("save value applies to item", c.p);
    ++c.p;
    if (c.AtEnd()) return Coupon("store coupon flag", c.p);
    ++c.p;
    if (c.AtEnd() || c.Peek() > '1') return Coupon("don't multiply flag", c.p);
    ++c.p;
  }
  if (!c.AtEnd()) return Coupon("excess data", c.p);
  return std::nullopt;
}

std::optional<LintFault> CouponPosOffer(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (!IsDigit(s[i])) return Coupon("non-digit", i);
  }
  Cursor c{s};
  if (c.AtEnd() || (c.Peek() != '0' && c.Peek() != '1')) return Coupon("format code", c.p);
  ++c.p;
  if (auto f = VliField(c, '0', '6', 6, "funder ID", false)) return f;
  if (c.Left() < 6) return Coupon("offer code", c.p);
  c.p += 6;
  if (auto f = VliField(c, '0', '9', 6, "serial number", false)) return f;
  if (!c.AtEnd()) return Coupon("excess data", c.p);
  return std::nullopt;
}

}  // namespace

std::optional<LintFault> RunLinter(Check check, std::string_view s, int reference_year) {
  switch (check) {
    case Check::kNone:
      return std::nullopt;
    case Check::kCsum:
      if (s.empty() || !AllDigits(s)) return Fault("gs1.charset", "is not all digits", 0);
      if (Gs1Mod10(s.substr(0, s.size() - 1)) != s.back() - '0') {
        return Fault("gs1.check_digit",
                     "has check digit " + std::string(1, s.back()) + ", expected " +
                         std::to_string(Gs1Mod10(s.substr(0, s.size() - 1))),
                     s.size() - 1);
      }
      return std::nullopt;
    case Check::kCsumAlpha:
      return CsumAlpha(s);
    case Check::kGcpPos1:
      return Gcp(s, 0);
    case Check::kGcpPos2:
      return Gcp(s, 1);
    case Check::kYymmd0:
      return DateYymmdd(s, true, reference_year);
    case Check::kYymmdd:
      return DateYymmdd(s, false, reference_year);
    case Check::kYyyymmdd:
      return DateYyyymmdd(s);
    case Check::kHhmi:
      if (s.size() != 4 || TwoDigitsAtMost(s.substr(0, 2), 23, "hour") ||
          TwoDigitsAtMost(s.substr(2, 2), 59, "minute")) {
        return Fault("gs1.date", "is not a valid HHMM time (0000 to 2359)", 0);
      }
      return std::nullopt;
    case Check::kHh:
      return TwoDigitsAtMost(s, 23, "hour");
    case Check::kMi:
      return TwoDigitsAtMost(s, 59, "minute");
    case Check::kSs:
      return TwoDigitsAtMost(s, 59, "second");
    case Check::kIso3166:
      if (!InSortedList(kIso3166, s))
        return Fault("gs1.invalid_value", "is not an ISO 3166 numeric country code", 0);
      return std::nullopt;
    case Check::kIso3166999:
      if (s != "999" && !InSortedList(kIso3166, s)) {
        return Fault("gs1.invalid_value", "is neither an ISO 3166 numeric country code nor 999", 0);
      }
      return std::nullopt;
    case Check::kIso3166Alpha2:
      if (!InSortedList(kIso3166Alpha2, s))
        return Fault("gs1.invalid_value", "is not an ISO 3166 alpha-2 country code", 0);
      return std::nullopt;
    case Check::kIso4217:
      if (!InSortedList(kIso4217, s))
        return Fault("gs1.invalid_value", "is not an ISO 4217 numeric currency code", 0);
      return std::nullopt;
    case Check::kIso5218:
      if (s != "0" && s != "1" && s != "2" && s != "9") {
        return Fault("gs1.invalid_value", "is not an ISO 5218 sex code (0, 1, 2 or 9)", 0);
      }
      return std::nullopt;
    case Check::kIban:
      return Iban(s);
    case Check::kPcenc:
      for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') continue;
        auto hex = [](char c) {
          return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
        };
        if (i + 2 >= s.size() || !hex(s[i + 1]) || !hex(s[i + 2])) {
          return Fault("gs1.invalid_value", "holds '%' not followed by two hex digits", i);
        }
        i += 2;
      }
      return std::nullopt;
    case Check::kPieceOfTotal: {
      if (!AllDigits(s)) return Fault("gs1.charset", "is not all digits", 0);
      if (s.empty() || s.size() % 2)
        return Fault("gs1.invalid_value", "is not a piece and total of equal width", 0);
      std::string_view piece = s.substr(0, s.size() / 2), total = s.substr(s.size() / 2);
      if (piece.find_first_not_of('0') == std::string_view::npos)
        return Fault("gs1.invalid_value", "has piece number zero", 0);
      if (total.find_first_not_of('0') == std::string_view::npos)
        return Fault("gs1.invalid_value", "has total zero", piece.size());
      if (piece > total)
        return Fault("gs1.invalid_value",
                     "has piece " + std::string(piece) + " above total " + std::string(total), 0);
      return std::nullopt;
    }
    case Check::kPosInSeqSlash: {
      size_t slash = s.find('/');
      if (slash == std::string_view::npos || slash == 0 || slash + 1 >= s.size() ||
          !AllDigits(s.substr(0, slash)) || !AllDigits(s.substr(slash + 1))) {
        return Fault("gs1.invalid_value", "is not a position in sequence 'pos/end'", 0);
      }
      std::string_view pos = s.substr(0, slash), end = s.substr(slash + 1);
      if (pos[0] == '0')
        return Fault("gs1.invalid_value", "has a zero or zero-prefixed position", 0);
      if (end[0] == '0')
        return Fault("gs1.invalid_value", "has a zero or zero-prefixed end", slash + 1);
      if (pos.size() > end.size() || (pos.size() == end.size() && pos > end)) {
        return Fault("gs1.invalid_value", "has a position after the end", 0);
      }
      return std::nullopt;
    }
    case Check::kWinding:
      if (s != "0" && s != "1" && s != "9")
        return Fault("gs1.invalid_value", "is not a winding direction (0, 1 or 9)", 0);
      return std::nullopt;
    case Check::kZero:
      if (s != "0") return Fault("gs1.invalid_value", "must be the digit 0", 0);
      return std::nullopt;
    case Check::kNonZero:
      if (s.find_first_not_of('0') == std::string_view::npos)
        return Fault("gs1.invalid_value", "must not be zero", 0);
      return std::nullopt;
    case Check::kNoZeroPrefix:
      if (s.size() > 1 && s[0] == '0')
        return Fault("gs1.invalid_value", "must not start with a zero", 0);
      return std::nullopt;
    case Check::kMediaType: {
      int n = s.size() == 2 && AllDigits(s) ? Number(s) : 0;
      if (!((n >= 1 && n <= 10) || (n >= 80 && n <= 99))) {
        return Fault("gs1.invalid_value", "is not an AIDC media type (01 to 10, 80 to 99)", 0);
      }
      return std::nullopt;
    }
    case Check::kLatitude:
      if (s.size() != 10 || !AllDigits(s) || s > "1800000000") {
        return Fault("gs1.invalid_value", "is not a latitude (0000000000 to 1800000000)", 0);
      }
      return std::nullopt;
    case Check::kLongitude:
      if (s.size() != 10 || !AllDigits(s) || s > "3600000000") {
        return Fault("gs1.invalid_value", "is not a longitude (0000000000 to 3600000000)", 0);
      }
      return std::nullopt;
    case Check::kCouponCode:
      return CouponCode(s);
    case Check::kCouponPosOffer:
      return CouponPosOffer(s);
    case Check::kHasNonDigit:
      if (AllDigits(s)) return Fault("gs1.invalid_value", "must hold at least one non-digit", 0);
      return std::nullopt;
    case Check::kImporterIdx: {
      char c = s.size() == 1 ? s[0] : '\0';
      bool ok = c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                (c >= 'a' && c <= 'z');
      if (!ok) return Fault("gs1.invalid_value", "is not an importer index character", 0);
      return std::nullopt;
    }
    case Check::kPackageType:
      if (!InSortedList(kPackageTypes, s))
        return Fault("gs1.invalid_value", "is not a GS1 package type code", 0);
      return std::nullopt;
    case Check::kYesNo:
      if (s != "0" && s != "1") return Fault("gs1.invalid_value", "must be 0 or 1", 0);
      return std::nullopt;
    case Check::kHyphen:
      if (s.find_first_not_of('-') != std::string_view::npos)
        return Fault("gs1.invalid_value", "must be '-'", 0);
      return std::nullopt;
    case Check::kKey:
      return Gcp(s, 0);
    case Check::kKeyOff1:
      return Gcp(s, 1);
    case Check::kHhmm:
      return RunLinter(Check::kHhmi, s, reference_year);
    case Check::kMm:
      if (s.size() != 2 || !AllDigits(s) || Number(s) < 1 || Number(s) > 12) {
        return Fault("gs1.date", "is not a month (01 to 12)", 0);
      }
      return std::nullopt;
    case Check::kYyyymmd0:
      return DateYyyymmdd(s, true);
    case Check::kYymmddhh:
      if (s.size() != 8) return Fault("gs1.date", "is not a YYMMDDHH date and hour", 0);
      if (auto f = DateYymmdd(s.substr(0, 6), false, reference_year)) return f;
      if (auto f = TwoDigitsAtMost(s.substr(6), 23, "hour")) return Fault(f->code, f->message, 6);
      return std::nullopt;
    case Check::kMmOptSs:
      if (s.size() != 2 && s.size() != 4) return Fault("gs1.date", "is not MM or MMSS", 0);
      if (auto f = TwoDigitsAtMost(s.substr(0, 2), 59, "minute")) return f;
      if (s.size() == 4) {
        if (auto f = TwoDigitsAtMost(s.substr(2), 59, "second"))
          return Fault(f->code, f->message, 2);
      }
      return std::nullopt;
    case Check::kIso3166List:
      if (s.empty() || s.size() % 3 || s.size() > 15) {
        return Fault("gs1.invalid_value", "is not a list of one to five 3-digit country codes", 0);
      }
      for (size_t i = 0; i < s.size(); i += 3) {
        if (!InSortedList(kIso3166, s.substr(i, 3))) {
          return Fault(
              "gs1.invalid_value",
              "holds '" + std::string(s.substr(i, 3)) + "', not an ISO 3166 numeric country code",
              i);
        }
      }
      return std::nullopt;
    case Check::kLatLong:
      if (s.size() != 20) {
        return Fault("gs1.invalid_value", "is not a latitude and longitude (20 digits)", 0);
      }
      if (auto f = RunLinter(Check::kLatitude, s.substr(0, 10), reference_year)) return f;
      if (auto f = RunLinter(Check::kLongitude, s.substr(10), reference_year)) {
        return Fault(f->code, f->message, 10);
      }
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace pedigree::scanner::internal
