#include "pedigree/log/envelope.h"

#include <boost/test/unit_test.hpp>
#include <numeric>

using namespace pedigree;
using namespace pedigree::log;

namespace {

// TEST-ONLY key: seed bytes 00..1f.
PrivateKey TestKey() {
  Bytes seed(32);
  std::iota(seed.begin(), seed.end(), 0);
  return PrivateKey::FromSeed(seed).value();
}

// Version 1 (what old ledgers hold). Reproduce with Python's `cryptography`:
//   k = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
//   p = json.dumps(payload, sort_keys=True, separators=(',',':'), ensure_ascii=False)
//   sig = k.sign(b"pedigree/entry/v1\n" + p.encode())
const std::string kKnownEnvelope =
    "{\"alg\":\"Ed25519\",\"key\":\"A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=\",\"payload\":"
    "{\"gtin\":\"09506000134352\",\"n\":42,\"note\":\"caf\xC3\xA9\",\"type\":\"test\"},\"sig\":"
    "\"D8nZ+RCq0MtSO+2ZLdRD1raPNDvjtBuqkAns47ppwUtm82qfLd/Kfi4ESVSnVHNqwhRj0pEZYOr/nI261PtXAA==\"}";

constexpr const char* kOrigin = "example.org/pedigree";

// Version 2, bound to the log "example.org/pedigree". Reproduce as above with
//   sig = k.sign(b"pedigree/entry/v2\n" + b"example.org/pedigree" + b"\n" + p.encode())
//   json.dumps({"alg":"Ed25519","key":b64(pub),"log":"example.org/pedigree","payload":payload,
//               "sig":b64(sig)}, sort_keys=True, separators=(',',':'), ensure_ascii=False)
const std::string kKnownEnvelopeV2 =
    "{\"alg\":\"Ed25519\",\"key\":\"A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=\",\"log\":"
    "\"example.org/pedigree\",\"payload\":{\"gtin\":\"09506000134352\",\"n\":42,\"note\":"
    "\"caf\xC3\xA9\",\"type\":\"test\"},\"sig\":\"T6M9/"
    "Z8h4GCraLcohEYpCKSTda860i8MoEejl9GnF8A0MqcHmN04+"
    "96y55casWvcAUxqWod2UWpt82WfcoziCQ==\"}";

JsonValue KnownPayload() {
  return JsonValue::Object()
      .set("type", "test")
      .set("n", 42)
      .set("gtin", "09506000134352")
      .set("note", "caf\xC3\xA9");
}

std::string Code(std::string_view envelope) {
  auto st = VerifyEntry(envelope);
  return st ? "ok" : st.error().code();
}

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  size_t at = s.find(from);
  BOOST_REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(envelope)

BOOST_AUTO_TEST_CASE(sign_entry_matches_independent_known_answer) {
  auto envelope = SignEntry(KnownPayload(), TestKey(), kOrigin);
  BOOST_REQUIRE(envelope.has_value());
  BOOST_TEST(*envelope == kKnownEnvelopeV2);
  auto v1 = SignEntryV1(KnownPayload(), TestKey());
  BOOST_REQUIRE(v1.has_value());
  BOOST_TEST(*v1 == kKnownEnvelope);
}

BOOST_AUTO_TEST_CASE(v2_envelope_opens_with_its_log_and_no_sequencing_time) {
  auto opened = OpenEntry(kKnownEnvelopeV2);
  if (!opened) BOOST_FAIL(opened.error().ToString());
  BOOST_TEST(opened->version == 2);
  BOOST_TEST(opened->log == kOrigin);
  BOOST_TEST(!opened->sequenced_at.has_value());
  BOOST_TEST(SignedMessage(*opened) ==
             "pedigree/entry/v2\nexample.org/pedigree\n" + Canonicalize(KnownPayload()));
  BOOST_TEST(Code(kKnownEnvelopeV2) == "ok");
  auto v1 = OpenEntry(kKnownEnvelope);
  BOOST_REQUIRE(v1.has_value());
  BOOST_TEST(v1->version == 1);
  BOOST_TEST(v1->log.empty());
}

// The log's name is signed: moving an entry to another log breaks its signature, and a
// log refuses entries signed for another.
BOOST_AUTO_TEST_CASE(entry_signed_for_one_log_is_refused_by_another) {
  BOOST_TEST(VerifySubmission(kKnownEnvelopeV2, kOrigin).has_value());
  auto other = VerifySubmission(kKnownEnvelopeV2, "example.org/other-shard");
  BOOST_REQUIRE(!other.has_value());
  BOOST_TEST(other.error().code() == "entry.wrong_log");
  BOOST_TEST(other.error().field() == "log");
  BOOST_TEST(other.error().message().find("example.org/other-shard") != std::string::npos);
  // Relabelled: the signature covers the origin.
  std::string relabelled = Replace(kKnownEnvelopeV2, kOrigin, "example.org/pedigree2");
  BOOST_TEST(Code(relabelled) == "entry.bad_signature");
  BOOST_TEST(VerifySubmission(relabelled, "example.org/pedigree2").error().code() ==
             "entry.bad_signature");
}

BOOST_AUTO_TEST_CASE(v1_envelope_still_verifies_but_is_not_accepted_for_appending) {
  BOOST_TEST(Code(kKnownEnvelope) == "ok");
  BOOST_TEST(VerifyLeaf(kKnownEnvelope, kOrigin).has_value());
  auto st = VerifySubmission(kKnownEnvelope, kOrigin);
  BOOST_REQUIRE(!st.has_value());
  BOOST_TEST(st.error().code() == "entry.version_unsupported");
  std::string copy = kKnownEnvelope;
  BOOST_TEST(!StampEntry(copy, 1'795'300'000));
  BOOST_TEST(copy == kKnownEnvelope);
}

BOOST_AUTO_TEST_CASE(stamped_entry_is_canonical_carries_its_time_and_still_verifies) {
  std::string leaf = kKnownEnvelopeV2;
  BOOST_REQUIRE(StampEntry(leaf, 1'795'300'000));  // date -ud @1795300000 +%FT%TZ
  BOOST_TEST(leaf == Replace(kKnownEnvelopeV2,
                             ",\"sig\":", ",\"seq\":{\"time\":\"2026-11-21T22:26:40Z\"},\"sig\":"));
  BOOST_TEST(CheckCanonical(leaf).has_value());
  BOOST_TEST(Code(leaf) == "ok");
  BOOST_TEST(VerifyLeaf(leaf, kOrigin).has_value());
  BOOST_TEST(VerifyLeaf(leaf, "example.org/other").error().code() == "entry.wrong_log");
  // An unsequenced v2 entry is not a leaf of a log.
  BOOST_TEST(VerifyLeaf(kKnownEnvelopeV2, kOrigin).error().field() == "seq");
  auto opened = OpenEntry(leaf);
  BOOST_REQUIRE(opened.has_value());
  BOOST_TEST(*opened->sequenced_at == 1'795'300'000);
  BOOST_TEST(opened->sequenced_text == "2026-11-21T22:26:40Z");
  BOOST_TEST(*LeafSequencingTime(leaf) == 1'795'300'000);
  BOOST_TEST(!LeafSequencingTime(kKnownEnvelope).has_value());
  // Only the log writes seq: a submission carrying one is refused.
  auto submitted = VerifySubmission(leaf, kOrigin);
  BOOST_REQUIRE(!submitted.has_value());
  BOOST_TEST(submitted.error().code() == "entry.sequenced");
  BOOST_TEST(submitted.error().field() == "seq");
}

BOOST_AUTO_TEST_CASE(entries_stamped_at_different_times_each_carry_their_own) {
  // StampEntry remembers the last time's text: a new time must not reuse it.
  std::string a = kKnownEnvelopeV2, b = kKnownEnvelopeV2, c = kKnownEnvelopeV2;
  BOOST_REQUIRE(StampEntry(a, 1'795'300'000));
  BOOST_REQUIRE(StampEntry(b, 1'795'300'001));
  BOOST_REQUIRE(StampEntry(c, 1'795'300'000));
  BOOST_TEST(*LeafSequencingTime(a) == 1'795'300'000);
  BOOST_TEST(*LeafSequencingTime(b) == 1'795'300'001);
  BOOST_TEST(c == a);
}

BOOST_AUTO_TEST_CASE(split_envelope_gives_the_parts_a_verified_leaf_is_made_of) {
  std::string leaf = kKnownEnvelopeV2;
  BOOST_REQUIRE(StampEntry(leaf, 1'795'300'000));
  auto parts = SplitEnvelope(leaf);
  BOOST_REQUIRE(parts.has_value());
  BOOST_TEST(parts->key == "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=");
  BOOST_TEST(parts->payload == Canonicalize(KnownPayload()));
  BOOST_REQUIRE(parts->seq_time.has_value());
  BOOST_TEST(*parts->seq_time == "2026-11-21T22:26:40Z");
  // Unsequenced and version 1 envelopes have no time; the payload is the same bytes.
  auto unsequenced = SplitEnvelope(kKnownEnvelopeV2);
  BOOST_REQUIRE(unsequenced.has_value());
  BOOST_TEST(!unsequenced->seq_time.has_value());
  auto v1 = SplitEnvelope(kKnownEnvelope);
  BOOST_REQUIRE(v1.has_value());
  BOOST_TEST(v1->payload == parts->payload);
  // Laid out otherwise (members reordered, spaces): no parts, the caller parses.
  BOOST_TEST(!SplitEnvelope(Replace(kKnownEnvelopeV2, "{\"alg\":", "{ \"alg\":")).has_value());
  BOOST_TEST(!SplitEnvelope("{}").has_value());
}

BOOST_AUTO_TEST_CASE(malformed_sequencing_times_are_rejected) {
  std::string leaf = kKnownEnvelopeV2;
  BOOST_REQUIRE(StampEntry(leaf, 1'795'300'000));
  const std::pair<std::string, std::string> cases[] = {
      {Replace(leaf, "2026-11-21T22:26:40Z", "2026-13-22T18:13:20Z"), "entry.malformed"},
      {Replace(leaf, "\"2026-11-21T22:26:40Z\"", "1795300000"), "entry.malformed"},
      {Replace(leaf, "{\"time\":", "{\"at\":"), "entry.malformed"},
      // seq in a version 1 envelope
      {Replace(kKnownEnvelope,
               ",\"sig\":", ",\"seq\":{\"time\":\"2026-11-21T22:26:40Z\"},\"sig\":"),
       "entry.malformed"},
  };
  for (const auto& [envelope, code] : cases) {
    BOOST_TEST(Code(envelope) == code, envelope);
    auto opened = OpenEntry(envelope);
    BOOST_TEST((opened ? std::string("ok") : opened.error().code()) == code, envelope);
  }
}

BOOST_AUTO_TEST_CASE(open_entry_returns_payload_key_and_signature) {
  auto opened = OpenEntry(kKnownEnvelope);
  if (!opened) BOOST_FAIL(opened.error().ToString());
  BOOST_TEST(opened->payload.find("n")->as_int() == 42);
  BOOST_TEST(opened->payload_bytes == Canonicalize(KnownPayload()));
  BOOST_TEST((opened->key == TestKey().public_key()));
  BOOST_TEST(opened->signature.size() == 64u);
  BOOST_TEST(Code(kKnownEnvelope) == "ok");
}

BOOST_AUTO_TEST_CASE(round_trip_with_nested_payload_verifies) {
  PrivateKey key = PrivateKey::Generate();
  JsonValue payload = JsonValue::Object()
                          .set("epcList", JsonValue::Array().push_back("a").push_back("b"))
                          .set("quantity", JsonValue::Object().set("value", "12.5").set("n", -7))
                          .set("\xF0\x9F\x98\x80", true);
  auto envelope = SignEntry(payload, key, kOrigin);
  BOOST_REQUIRE(envelope.has_value());
  BOOST_TEST(CheckCanonical(*envelope).has_value());
  auto opened = OpenEntry(*envelope);
  BOOST_REQUIRE(opened.has_value());
  BOOST_TEST(Canonicalize(opened->payload) == Canonicalize(payload));
}

BOOST_AUTO_TEST_CASE(sign_entry_refuses_floats_and_non_objects) {
  PrivateKey key = TestKey();
  auto with_float =
      SignEntry(JsonValue::Object().set(
                    "lines", JsonValue::Array().push_back(JsonValue::Object().set("price", 12.5))),
                key, kOrigin);
  BOOST_REQUIRE(!with_float.has_value());
  BOOST_TEST(with_float.error().code() == "entry.malformed");
  BOOST_TEST(with_float.error().field() == "payload.lines[0].price");
  auto too_big = SignEntry(JsonValue::Object().set("n", int64_t{1} << 53), key, kOrigin);
  BOOST_TEST(too_big.error().code() == "entry.malformed");
  BOOST_TEST(SignEntry(JsonValue::Array(), key, kOrigin).error().code() == "entry.malformed");
  // Built in code, these would canonicalise to bytes that no verifier accepts.
  BOOST_TEST(SignEntry(JsonValue::Object().set("s", "\xff"), key, kOrigin).error().code() ==
             "entry.malformed");
  JsonValue duplicate = JsonValue::Object();
  duplicate.as_object().emplace_back("a", 1);
  duplicate.as_object().emplace_back("a", 2);
  BOOST_TEST(SignEntry(duplicate, key, kOrigin).error().code() == "entry.malformed");
  JsonValue deep = JsonValue::Object();
  for (int i = 0; i < 70; ++i) deep = JsonValue::Object().set("d", std::move(deep));
  BOOST_TEST(SignEntry(deep, key, kOrigin).error().code() == "entry.malformed");
}

// Each tamper keeps everything else intact and must be caught with its own code.
BOOST_AUTO_TEST_CASE(tampered_envelopes_are_rejected_with_specific_codes) {
  const std::string& e = kKnownEnvelope;
  const std::pair<std::string, std::string> cases[] = {
      {Replace(e, "\"n\":42", "\"n\":43"), "entry.bad_signature"},
      {Replace(e, "caf\xC3\xA9", "cafe"), "entry.bad_signature"},
      {Replace(e, "\"sig\":\"D8n", "\"sig\":\"D9n"), "entry.bad_signature"},
      // A valid key that did not sign.
      {Replace(e, "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
               "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="),
       "entry.bad_signature"},
      {Replace(e, "{\"alg\"", "{ \"alg\""), "entry.not_canonical"},
      {Replace(e, "\"n\":42", "\"n\":42.0"), "entry.malformed"},  // float: not integers_only
      {Replace(e, "\"n\":42", "\"n\":4.2e1"), "entry.malformed"},
      {Replace(e, "\"type\":\"test\"", "\"type\":\"t\\u0065st\""), "entry.not_canonical"},
      {Replace(e, "{\"alg\":\"Ed25519\",", "{"), "entry.malformed"},
      {Replace(e, "\"Ed25519\"", "\"Ed448\""), "entry.unsupported_alg"},
      {Replace(e, "\"Ed25519\"", "25519"), "entry.malformed"},
      {Replace(e, "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=", "AAAA"), "entry.malformed"},
      {Replace(e, "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=", "not base64"), "entry.malformed"},
      {Replace(e, "XAA==", "XA=="), "entry.malformed"},
      {Replace(e, Canonicalize(KnownPayload()), "[1]"), "entry.malformed"},
      {e.substr(0, e.size() - 1) + ",\"zzz\":1}", "entry.malformed"},
      {e + " ", "entry.not_canonical"},
      {e + "x", "entry.malformed"},
      {"", "entry.malformed"},
      {"[]", "entry.malformed"},
  };
  for (const auto& [envelope, code] : cases) {
    BOOST_TEST(Code(envelope) == code, envelope);
    auto opened = OpenEntry(envelope);
    BOOST_TEST((opened ? std::string("ok") : opened.error().code()) == code, envelope);
  }
}

BOOST_AUTO_TEST_CASE(reordered_members_are_not_canonical) {
  // Same members, sig first: valid JSON, still signed, but not the stored byte form.
  auto opened = OpenEntry(kKnownEnvelope);
  BOOST_REQUIRE(opened.has_value());
  std::string sig_b64 = ToBase64(opened->signature);
  std::string reordered = "{\"sig\":\"" + sig_b64 + "\"," +
                          kKnownEnvelope.substr(1, kKnownEnvelope.find(",\"sig\"") - 1) + "}";
  auto st = VerifyEntry(reordered);
  BOOST_REQUIRE(!st.has_value());
  BOOST_TEST(st.error().code() == "entry.not_canonical");
  BOOST_TEST(*st.error().location().offset == 2u);
}

BOOST_AUTO_TEST_CASE(malformed_errors_name_the_field) {
  auto missing = VerifyEntry(Replace(kKnownEnvelope, "\"alg\":\"Ed25519\",", ""));
  BOOST_TEST(missing.error().field() == "alg");
  auto extra = VerifyEntry(kKnownEnvelope.substr(0, kKnownEnvelope.size() - 1) + ",\"zzz\":1}");
  BOOST_TEST(extra.error().field() == "zzz");
  auto bad_key =
      VerifyEntry(Replace(kKnownEnvelope, "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=", "AAAA"));
  BOOST_TEST(bad_key.error().field() == "key");
}

BOOST_AUTO_TEST_CASE(signature_without_domain_prefix_does_not_verify) {
  // A signature over bare JCS(payload) must not pass for an entry signature.
  PrivateKey key = TestKey();
  std::string payload = Canonicalize(KnownPayload());
  std::string forged = "{\"alg\":\"Ed25519\",\"key\":\"" + ToBase64(key.public_key().raw()) +
                       "\",\"payload\":" + payload + ",\"sig\":\"" + ToBase64(key.Sign(payload)) +
                       "\"}";
  BOOST_TEST(Code(forged) == "entry.bad_signature");
}

// Envelopes signed over arbitrary payload bytes, to reach the layout-based fast path of
// VerifyEntry with payloads SignEntry would never produce. VerifyEntry must agree with
// OpenEntry (which always parses the whole envelope) on every one.
std::string SignedOver(const std::string& payload) {
  PrivateKey key = TestKey();
  return "{\"alg\":\"Ed25519\",\"key\":\"" + ToBase64(key.public_key().raw()) +
         "\",\"payload\":" + payload + ",\"sig\":\"" +
         ToBase64(key.Sign(std::string(kEntrySignaturePrefix) + payload)) + "\"}";
}

std::string Nested(int depth) {
  std::string s = "{}";
  for (int i = 1; i < depth; ++i) s = "{\"d\":" + s + "}";
  return s;
}

BOOST_AUTO_TEST_CASE(canonical_layout_with_non_canonical_payload_is_rejected_like_the_full_parse) {
  const std::pair<std::string, std::string> cases[] = {
      {SignedOver("{\"a\":1}"), "ok"},
      {SignedOver("{\"a\":\",\\\"sig\\\":\\\"AAAA\"}"), "ok"},     // the layout inside a string
      {SignedOver("{\"b\":1,\"a\":2}"), "entry.not_canonical"},    // members unsorted
      {SignedOver("{\"a\": 1}"), "entry.not_canonical"},           // whitespace
      {SignedOver("{\"a\":\"\\u0041\"}"), "entry.not_canonical"},  // needless escape
      {SignedOver("{\"a\":1,\"a\":1}"), "entry.malformed"},        // duplicate member
      {SignedOver("{\"a\":1.5}"), "entry.malformed"},              // not an integer
      {SignedOver("{\"a\":1}{}"), "entry.malformed"},              // two values
      {SignedOver("[]"), "entry.malformed"},                       // not an object
      // The envelope adds a level: 63 levels of payload are the most the parser allows.
      {SignedOver(Nested(63)), "ok"},
      {SignedOver(Nested(64)), "entry.malformed"},
  };
  for (const auto& [envelope, code] : cases) {
    BOOST_TEST(Code(envelope) == code, envelope);
    auto opened = OpenEntry(envelope);
    BOOST_TEST((opened ? std::string("ok") : opened.error().code()) == code, envelope);
  }
}

// The same agreement for sequenced version 2 leaves, whose layout has a "log" and a "seq"
// member around the payload; payloads that mimic either must not confuse the split.
std::string SequencedOver(const std::string& payload) {
  PrivateKey key = TestKey();
  return "{\"alg\":\"Ed25519\",\"key\":\"" + ToBase64(key.public_key().raw()) + "\",\"log\":\"" +
         kOrigin + "\",\"payload\":" + payload +
         ",\"seq\":{\"time\":\"2026-11-21T22:26:40Z\"},\"sig\":\"" +
         ToBase64(key.Sign(std::string(kEntrySignaturePrefixV2) + kOrigin + "\n" + payload)) +
         "\"}";
}

BOOST_AUTO_TEST_CASE(sequenced_layout_agrees_with_the_full_parse) {
  const std::pair<std::string, std::string> cases[] = {
      {SequencedOver("{\"a\":1}"), "ok"},
      {SequencedOver("{\"a\":{},\"seq\":{\"time\":\"2026-11-21T22:26:40Z\"}}"), "ok"},
      {SequencedOver("{\"a\":\",\\\"seq\\\":{\\\"time\\\":\\\"2026\"}"), "ok"},
      {SequencedOver("{\"b\":1,\"a\":2}"), "entry.not_canonical"},
      {SequencedOver("{\"a\":1.5}"), "entry.malformed"},
      {SequencedOver("[]"), "entry.malformed"},
  };
  for (const auto& [envelope, code] : cases) {
    BOOST_TEST(Code(envelope) == code, envelope);
    auto opened = OpenEntry(envelope);
    BOOST_TEST((opened ? std::string("ok") : opened.error().code()) == code, envelope);
    if (opened) BOOST_TEST(*opened->sequenced_at == 1'795'300'000);
  }
}

BOOST_AUTO_TEST_SUITE_END()
