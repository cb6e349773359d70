// Device-signed sensor data: what a registered data logger signs for one EPCIS 2.0
// sensorElement and how the signature travels. The format a logger vendor implements is
// docs/epcis.md, "Device-signed sensor data"; the ledger's rules (ProvenanceState, kind
// `sensor`), the reports and the offline verifier all call these functions, never a copy.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"

namespace pedigree::provenance {

// The extension member of a sensorElement that carries the logger's signature:
// {"alg": "Ed25519", "sig": base64 of the 64-byte signature}. Its prefix `pedigree` is
// declared in the document's @context as "urn:pedigree:epcis:".
inline constexpr std::string_view kDeviceSignatureMember = "pedigree:deviceSignature";

// The sensorReport members that are JSON numbers in EPCIS 2.0 and decimal strings in a
// signed pedigree payload (which carries no floats).
bool IsSensorNumberMember(std::string_view name);

// The signature a sensorElement carries, read but not verified.
struct DeviceSignature {
  std::string device_id;          // sensorMetadata.deviceID
  std::array<uint8_t, 64> sig{};  // Ed25519 signature over DeviceSignedBytes
};

// The element's signature, nullopt for an unsigned element. event.malformed (at
// `field`.pedigree:deviceSignature or `field`.sensorMetadata.deviceID) when the member is
// not {"alg":"Ed25519","sig":base64 of 64 bytes} or the element names no deviceID.
[[nodiscard]] Result<std::optional<DeviceSignature>> ReadDeviceSignature(const JsonValue& element,
                                                                         const std::string& field);

// The bytes a logger signs: RFC 8785 (JCS) of the element in its EPCIS 2.0 JSON form without
// kDeviceSignatureMember. `element` may be in either form: EPCIS (numbers) or a pedigree
// payload (each IsSensorNumberMember of a sensorReport a decimal string, which must then be
// exactly the JCS form of its number, e.g. "4.5", not "4.50" or "+4.5", so that both forms
// sign the same bytes); event.malformed at `field`.sensorReport[j].<member> otherwise.
[[nodiscard]] Result<std::string> DeviceSignedBytes(const JsonValue& element,
                                                    const std::string& field);

// The element in its EPCIS 2.0 JSON form: IsSensorNumberMember decimal strings of its
// sensorReports become JSON numbers, everything else (the signature member included) is kept.
// A string that is no decimal is kept as it is.
JsonValue SensorElementAsEpcis(const JsonValue& element);

}  // namespace pedigree::provenance
