// libFuzzer target: EPCIS XML import (2.0 and 1.2) on arbitrary bytes. ParseEpcisXml must
// return a document or an error, never crash or expand entities; a document it returns must
// map (ImportEvent) and hash like any JSON one, and its errors must locate back into the XML.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pedigree/scanner/epcis.h"
#include "pedigree/scanner/epcis_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace epcis = pedigree::scanner::epcis;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)epcis::LooksLikeXml(bytes);
  auto xml = epcis::ParseEpcisXml(bytes);
  if (!xml) {
    (void)xml.error().ToString();
    return 0;
  }
  epcis::HashOptions options = epcis::PedigreeHashOptions();
  for (auto& p : epcis::ContextPrefixes(xml->document)) options.context.push_back(p);
  const pedigree::JsonValue& list = *xml->document.find("epcisBody")->find("eventList");
  for (size_t i = 0; i < list.as_array().size(); ++i) {
    const std::string pointer = "/epcisBody/eventList/" + std::to_string(i);
    auto one = epcis::ImportEvent(list.as_array()[i], options, pointer);
    if (!one) (void)xml->Locate(one.error()).ToString();
    (void)epcis::EventHashId(list.as_array()[i], options);
  }
  (void)pedigree::Canonicalize(xml->document);
  return 0;
}
