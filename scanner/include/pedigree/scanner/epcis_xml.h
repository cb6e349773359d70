// EPCIS XML documents (2.0, namespace urn:epcglobal:epcis:xsd:2, and 1.2,
// urn:epcglobal:epcis:xsd:1) read into the EPCIS 2.0 JSON-LD document the JSON importer takes,
// so that the mapping onto pedigree events, its validation and the Event Hash ID are one code
// path whatever the serialisation (docs/epcis.md, "Formats"). DTDs and entity declarations are
// refused before anything is expanded (XXE, entity expansion).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"

namespace pedigree::scanner::epcis {

inline constexpr std::string_view kEpcis20XmlNamespace = "urn:epcglobal:epcis:xsd:2";
inline constexpr std::string_view kEpcis12XmlNamespace = "urn:epcglobal:epcis:xsd:1";

// Where an element of the XML document starts (1-based) and its path
// ("/epcis:EPCISDocument/EPCISBody/EventList/ObjectEvent[2]/epcList/epc[1]").
struct XmlLocation {
  uint64_t line = 0;
  uint64_t column = 0;
  std::string path;
};

struct XmlDocument {
  // An EPCIS 2.0 JSON-LD EPCISDocument: "@context" (the standard context and the prefixes of
  // the extension namespaces used), schemaVersion, creationDate, epcisBody.eventList.
  JsonValue document;
  std::string schema_version;  // "2.0" or "1.2": the namespace of the root
  // The JSON pointer of every member made from an element -> that element.
  std::map<std::string, XmlLocation> locations;

  // `error` (its field a JSON pointer into `document`, as ImportEvent reports) pointing at the
  // XML instead: the field becomes the element path, the line and column are set and the JSON
  // pointer is kept as the detail "jsonPointer". Errors without a known pointer are returned
  // unchanged.
  [[nodiscard]] Error Locate(const Error& error) const;
};

// True when the first non-blank character is '<' (a JSON document starts with '{' or '[').
bool LooksLikeXml(std::string_view text);

// Parses an EPCIS 2.0 or 1.2 XML EPCISDocument. 1.2's <extension> and <baseExtension>
// wrappers are unwrapped (their members are the 2.0 members of the same name); extension
// elements of other namespaces become "prefix:name" members. Errors: epcis.invalid_event with
// the line and column and the element path as field (malformed XML, a DTD or entity
// declaration, an unknown root, namespace or EPCIS element, nesting deeper than 64).
[[nodiscard]] Result<XmlDocument> ParseEpcisXml(std::string_view xml);

// An EPCIS 2.0 JSON-LD EPCISDocument (what ExportDocument writes) in the EPCIS 2.0 XML binding:
// the members ParseEpcisXml reads, in the XSD's order, CBV words as their URNs
// ("shipping" -> urn:epcglobal:cbv:bizstep:shipping), "prefix:name" members as elements of the
// namespace the document's @context (or the EPCIS defaults) gives the prefix. Reading the
// result back with ParseEpcisXml yields events with the same Event Hash IDs. Errors:
// epcis.invalid_event (no epcisBody.eventList, an event without type, a prefix no context
// defines; field the JSON pointer).
[[nodiscard]] Result<std::string> DocumentToXml(const JsonValue& document);

}  // namespace pedigree::scanner::epcis
