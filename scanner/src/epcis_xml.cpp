// EPCIS 2.0 and 1.2 XML as the EPCIS 2.0 JSON-LD document (scanner/include/.../epcis_xml.h).
// The XML is read with POCO's SAX parser (Expat) into a small element tree that remembers
// where each element starts; the tree is then mapped member by member onto the JSON binding,
// recording the element behind every JSON pointer so that errors found later by the JSON
// importer still name the XML line.
#include "pedigree/scanner/epcis_xml.h"

#include <Poco/SAX/Attributes.h>
#include <Poco/SAX/DefaultHandler.h>
#include <Poco/SAX/LexicalHandler.h>
#include <Poco/SAX/Locator.h>
#include <Poco/SAX/SAXException.h>
#include <Poco/SAX/SAXParser.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "pedigree/scanner/epcis.h"

namespace pedigree::scanner::epcis {
namespace {

constexpr size_t kMaxDepth = 64;

struct Node {
  std::string ns;
  std::string local;
  std::string qname;
  std::vector<std::pair<std::string, std::string>> attributes;  // (ns, local) flattened below
  std::vector<std::string> attribute_ns;
  std::string text;
  std::vector<std::unique_ptr<Node>> children;
  XmlLocation where;

  const std::string* attribute(std::string_view name) const {
    for (size_t i = 0; i < attributes.size(); ++i) {
      if (attribute_ns[i].empty() && attributes[i].first == name) return &attributes[i].second;
    }
    return nullptr;
  }
};

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// Thrown inside SAX callbacks to stop the parse with a located error.
struct Refusal {
  Error error;
};

class TreeBuilder : public Poco::XML::DefaultHandler, public Poco::XML::LexicalHandler {
 public:
  std::unique_ptr<Node> root;
  // Namespace URI -> the first prefix the document declared for it.
  std::map<std::string, std::string> prefixes;

  void setDocumentLocator(const Poco::XML::Locator* loc) override { locator_ = loc; }

  void startPrefixMapping(const Poco::XML::XMLString& prefix,
                          const Poco::XML::XMLString& uri) override {
    prefixes.emplace(uri, prefix);
  }

  void startElement(const Poco::XML::XMLString& uri, const Poco::XML::XMLString& local,
                    const Poco::XML::XMLString& qname,
                    const Poco::XML::Attributes& attrs) override {
    auto node = std::make_unique<Node>();
    node->ns = uri;
    node->local = local;
    node->qname = qname.empty() ? local : qname;
    node->where.line = locator_ != nullptr ? static_cast<uint64_t>(locator_->getLineNumber()) : 0;
    node->where.column =
        locator_ != nullptr ? static_cast<uint64_t>(locator_->getColumnNumber()) + 1 : 0;
    std::string path = stack_.empty() ? "" : stack_.back()->where.path;
    size_t same = 1;
    if (!stack_.empty()) {
      for (const auto& c : stack_.back()->children) same += c->qname == node->qname ? 1 : 0;
    }
    node->where.path =
        path + "/" + node->qname + (stack_.empty() ? "" : "[" + std::to_string(same) + "]");
    if (stack_.size() >= kMaxDepth) {
      throw Refusal{Error("epcis.invalid_event",
                          "the XML nests deeper than " + std::to_string(kMaxDepth) + " elements")
                        .at_field(node->where.path)
                        .at_line_column(node->where.line, node->where.column)};
    }
    for (int i = 0; i < attrs.getLength(); ++i) {
      node->attributes.emplace_back(attrs.getLocalName(i), attrs.getValue(i));
      node->attribute_ns.push_back(attrs.getURI(i));
    }
    Node* raw = node.get();
    if (stack_.empty()) {
      root = std::move(node);
    } else {
      stack_.back()->children.push_back(std::move(node));
    }
    stack_.push_back(raw);
  }

  void endElement(const Poco::XML::XMLString&, const Poco::XML::XMLString&,
                  const Poco::XML::XMLString&) override {
    stack_.pop_back();
  }

  void characters(const Poco::XML::XMLChar ch[], int start, int length) override {
    if (!stack_.empty()) stack_.back()->text.append(ch + start, static_cast<size_t>(length));
  }

  // A DTD is where entities are declared (external ones read files or URLs; nested internal
  // ones expand exponentially): EPCIS needs none, so any is refused before it is read.
  void startDTD(const Poco::XML::XMLString& name, const Poco::XML::XMLString&,
                const Poco::XML::XMLString&) override {
    throw Refusal{Refused("a DTD (<!DOCTYPE " + name + ">)")};
  }
  void endDTD() override {}
  void startEntity(const Poco::XML::XMLString& name) override {
    throw Refusal{Refused("the entity '" + name + "'")};
  }
  void endEntity(const Poco::XML::XMLString&) override {}
  void startCDATA() override {}
  void endCDATA() override {}
  void comment(const Poco::XML::XMLChar[], int, int) override {}
  void skippedEntity(const Poco::XML::XMLString& name) override {
    throw Refusal{Refused("the entity '" + name + "'")};
  }

 private:
  Error Refused(const std::string& what) const {
    Error e("epcis.invalid_event",
            "EPCIS XML takes no DTDs and no entities (they can read files or expand without "
            "bound); found " +
                what);
    if (locator_ != nullptr) {
      e = e.at_line_column(static_cast<uint64_t>(locator_->getLineNumber()),
                           static_cast<uint64_t>(locator_->getColumnNumber()) + 1);
    }
    return e;
  }

  const Poco::XML::Locator* locator_ = nullptr;
  std::vector<Node*> stack_;
};

// 1-based line and column of byte `offset` of `text`.
std::pair<uint64_t, uint64_t> LineColumn(std::string_view text, size_t offset) {
  uint64_t line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

class Mapper {
 public:
  Mapper(std::map<std::string, std::string> declared, XmlDocument& out)
      : declared_(std::move(declared)), out_(out) {}

  Error Invalid(const std::string& message, const Node& n) const {
    return Error("epcis.invalid_event", message)
        .at_field(n.where.path)
        .at_line_column(n.where.line, n.where.column);
  }

  void Record(const std::string& pointer, const Node& n) { out_.locations[pointer] = n.where; }

  // The JSON-LD prefix of an extension namespace: the EPCIS defaults (cbvmda, gs1, pedigree)
  // under their standard names, any other under the prefix the document declared.
  std::string PrefixOf(const std::string& ns) {
    static const std::map<std::string, std::string> kKnown = {
        {"urn:epcglobal:cbv:mda", "cbvmda"},
        {"urn:epcglobal:cbv:mda:", "cbvmda"},
        {"https://gs1.org/voc/", "gs1"},
        {"https://ref.gs1.org/cbv/", "cbv"},
        {"https://ref.gs1.org/epcis/", "epcis"},
        {std::string(kPedigreeNamespace), std::string(kPedigreePrefix)}};
    static const std::set<std::string> kReserved = {
        "epcis", "cbv",     "cbvmda",
        "gs1",   "rdfs",    "owl",
        "xsd",   "dcterms", std::string(kPedigreePrefix)};
    if (auto k = kKnown.find(ns); k != kKnown.end()) return k->second;
    if (auto u = used_.find(ns); u != used_.end()) return u->second;
    std::string prefix;
    if (auto d = declared_.find(ns); d != declared_.end()) prefix = d->second;
    if (prefix.empty() || kReserved.contains(prefix) || taken_.contains(prefix)) {
      prefix = "ext" + std::to_string(used_.size() + 1);
    }
    used_[ns] = prefix;
    taken_.insert(prefix);
    return prefix;
  }

  std::string MemberName(const Node& n) {
    return n.ns.empty() ? n.local : PrefixOf(n.ns) + ":" + n.local;
  }

  // The children of `n` with 1.2's <extension>/<baseExtension> wrappers (no namespace)
  // unwrapped, in document order.
  static void Members(const Node& n, std::vector<const Node*>& out) {
    for (const auto& c : n.children) {
      if (c->ns.empty() && (c->local == "extension" || c->local == "baseExtension")) {
        Members(*c, out);
      } else {
        out.push_back(c.get());
      }
    }
  }
  static std::vector<const Node*> Members(const Node& n) {
    std::vector<const Node*> out;
    Members(n, out);
    return out;
  }

  // An extension element: its text when it has no element children, else an object of them
  // (a name repeated becomes an array).
  JsonValue Extension(const Node& n, const std::string& pointer) {
    Record(pointer, n);
    std::vector<const Node*> members = Members(n);
    if (members.empty()) return JsonValue::String(Trim(n.text));
    JsonValue obj = JsonValue::Object();
    for (const Node* c : members) {
      std::string name = MemberName(*c);
      JsonValue* existing = obj.find(name);
      if (existing == nullptr) {
        obj.set(name, Extension(*c, pointer + "/" + name));
      } else {
        if (!existing->is_array()) {
          JsonValue first = std::move(*existing);
          *existing = JsonValue::Array();
          existing->push_back(std::move(first));
        }
        existing->push_back(Extension(
            *c, pointer + "/" + name + "/" + std::to_string(existing->as_array().size())));
      }
    }
    return obj;
  }

  // <epcList><epc>…</epc>…</epcList> -> ["…", …].
  Result<JsonValue> Texts(const Node& n, std::string_view item, const std::string& pointer) {
    Record(pointer, n);
    JsonValue out = JsonValue::Array();
    for (const Node* c : Members(n)) {
      if (!c->ns.empty()) continue;  // extensions of a list have no JSON place; ignored
      if (c->local != item) {
        return Fail(Invalid(
            "<" + n.local + "> takes <" + std::string(item) + "> elements, not <" + c->qname + ">",
            *c));
      }
      Record(pointer + "/" + std::to_string(out.as_array().size()), *c);
      out.push_back(JsonValue::String(Trim(c->text)));
    }
    return out;
  }

  // A standard CBV URN as the JSON binding writes it, a bare word
  // ("urn:epcglobal:cbv:bizstep:shipping" -> "shipping"; the JSON Schema refuses the URN form).
  // The Event Hash ID reads both alike; other values are kept.
  static std::string JsonCbv(std::string value, std::string_view urn_kind) {
    const std::string prefix = "urn:epcglobal:cbv:" + std::string(urn_kind) + ":";
    if (value.starts_with(prefix) && value.size() > prefix.size())
      return value.substr(prefix.size());
    return value;
  }

  // <bizTransactionList><bizTransaction type="…">id</bizTransaction>…</…> -> [{type, id}].
  Result<JsonValue> Typed(const Node& n, std::string_view item, const std::string& pointer) {
    Record(pointer, n);
    JsonValue out = JsonValue::Array();
    for (const Node* c : Members(n)) {
      if (!c->ns.empty()) continue;
      if (c->local != item) {
        return Fail(Invalid(
            "<" + n.local + "> takes <" + std::string(item) + "> elements, not <" + c->qname + ">",
            *c));
      }
      std::string at = pointer + "/" + std::to_string(out.as_array().size());
      Record(at, *c);
      Record(at + "/" + std::string(item), *c);
      JsonValue e = JsonValue::Object();
      if (const std::string* type = c->attribute("type")) {
        e.set("type", JsonCbv(*type, item == "bizTransaction" ? "btt" : "sdt"));
      }
      e.set(std::string(item), Trim(c->text));
      out.push_back(std::move(e));
    }
    return out;
  }

  Result<JsonValue> Quantities(const Node& n, const std::string& pointer) {
    Record(pointer, n);
    JsonValue out = JsonValue::Array();
    for (const Node* c : Members(n)) {
      if (!c->ns.empty()) continue;
      if (c->local != "quantityElement") {
        return Fail(Invalid(
            "<" + n.local + "> takes <quantityElement> elements, not <" + c->qname + ">", *c));
      }
      std::string at = pointer + "/" + std::to_string(out.as_array().size());
      Record(at, *c);
      JsonValue e = JsonValue::Object();
      for (const Node* m : Members(*c)) {
        std::string value = Trim(m->text);
        Record(at + "/" + m->local, *m);
        if (m->local == "quantity") {
          char* end = nullptr;
          double q = std::strtod(value.c_str(), &end);
          if (value.empty() || end == nullptr || *end != '\0') {
            return Fail(Invalid("quantity '" + value + "' is no number", *m));
          }
          if (q == static_cast<double>(static_cast<int64_t>(q)) && q < 9e15 && q > -9e15) {
            e.set("quantity", JsonValue::Int(static_cast<int64_t>(q)));
          } else {
            e.set("quantity", JsonValue::Double(q));
          }
        } else {
          e.set(MemberName(*m), value);
        }
      }
      out.push_back(std::move(e));
    }
    return out;
  }

  // readPoint, bizLocation: {id, extensions…}.
  JsonValue Place(const Node& n, const std::string& pointer) {
    Record(pointer, n);
    JsonValue obj = JsonValue::Object();
    for (const Node* c : Members(n)) {
      std::string name = MemberName(*c);
      obj.set(name, c->ns.empty() ? JsonValue::String(Trim(c->text))
                                  : Extension(*c, pointer + "/" + name));
      Record(pointer + "/" + name, *c);
    }
    return obj;
  }

  // An object whose members are extension elements (ilmd) or plain text members
  // (errorDeclaration's declarationTime and reason).
  Result<JsonValue> ObjectOf(const Node& n, const std::string& pointer, bool plain_text_ok) {
    Record(pointer, n);
    JsonValue obj = JsonValue::Object();
    for (const Node* c : Members(n)) {
      std::string name = MemberName(*c);
      if (c->ns.empty() && !plain_text_ok) {
        return Fail(Invalid("<" + n.local +
                                "> takes extension elements (a namespace such as "
                                "urn:epcglobal:cbv:mda), not <" +
                                c->qname + ">",
                            *c));
      }
      if (c->ns.empty() && c->local == "correctiveEventIDs") {
        PEDIGREE_ASSIGN(ids, Texts(*c, "correctiveEventID", pointer + "/correctiveEventIDs"));
        obj.set("correctiveEventIDs", std::move(*ids));
        continue;
      }
      obj.set(name, c->ns.empty() ? JsonValue::String(Trim(c->text))
                                  : Extension(*c, pointer + "/" + name));
      Record(pointer + "/" + name, *c);
    }
    return obj;
  }

  // sensorMetadata / sensorReport: their attributes as members; the measured values as numbers.
  Result<JsonValue> Attributes(const Node& n, const std::string& pointer) {
    static const std::set<std::string> kNumbers = {"value", "minValue", "maxValue", "meanValue",
                                                   "sDev",  "percRank", "percValue"};
    Record(pointer, n);
    JsonValue obj = JsonValue::Object();
    for (size_t i = 0; i < n.attributes.size(); ++i) {
      const auto& [local, value] = n.attributes[i];
      const std::string& ns = n.attribute_ns[i];
      std::string name = ns.empty() ? local : PrefixOf(ns) + ":" + local;
      if (ns.empty() && kNumbers.contains(local)) {
        char* end = nullptr;
        double d = std::strtod(value.c_str(), &end);
        if (value.empty() || end == nullptr || *end != '\0') {
          return Fail(Invalid(local + " '" + value + "' is no number", n));
        }
        obj.set(name, JsonValue::Double(d));
      } else {
        obj.set(name, value);
      }
    }
    return obj;
  }

  Result<JsonValue> Sensors(const Node& n, const std::string& pointer) {
    Record(pointer, n);
    JsonValue out = JsonValue::Array();
    for (const Node* c : Members(n)) {
      if (!c->ns.empty()) continue;
      if (c->local != "sensorElement") {
        return Fail(
            Invalid("<sensorElementList> takes <sensorElement>, not <" + c->qname + ">", *c));
      }
      std::string at = pointer + "/" + std::to_string(out.as_array().size());
      Record(at, *c);
      JsonValue element = JsonValue::Object();
      JsonValue reports = JsonValue::Array();
      for (const Node* m : Members(*c)) {
        if (!m->ns.empty()) {
          std::string name = MemberName(*m);
          element.set(name, Extension(*m, at + "/" + name));
        } else if (m->local == "sensorMetadata") {
          PEDIGREE_ASSIGN(meta, Attributes(*m, at + "/sensorMetadata"));
          element.set("sensorMetadata", std::move(*meta));
        } else if (m->local == "sensorReport") {
          PEDIGREE_ASSIGN(report, Attributes(*m, at + "/sensorReport/" +
                                                     std::to_string(reports.as_array().size())));
          reports.push_back(std::move(*report));
        } else {
          return Fail(Invalid(
              "<sensorElement> takes <sensorMetadata> and <sensorReport>, not <" + m->qname + ">",
              *m));
        }
      }
      if (!reports.as_array().empty()) element.set("sensorReport", std::move(reports));
      out.push_back(std::move(element));
    }
    return out;
  }

  Result<JsonValue> Event(const Node& n, const std::string& pointer) {
    Record(pointer, n);
    JsonValue event = JsonValue::Object().set("type", n.local);
    Record(pointer + "/type", n);
    static const std::set<std::string> kText = {
        "eventTime", "recordTime", "eventTimeZoneOffset", "eventID",  "certificationInfo",
        "action",    "bizStep",    "disposition",         "parentID", "transformationID"};
    static const std::map<std::string, std::string> kEpcLists = {{"epcList", "epc"},
                                                                 {"childEPCs", "epc"},
                                                                 {"inputEPCList", "epc"},
                                                                 {"outputEPCList", "epc"}};
    static const std::set<std::string> kQuantityLists = {"quantityList", "childQuantityList",
                                                         "inputQuantityList", "outputQuantityList"};
    static const std::map<std::string, std::string> kTypedLists = {
        {"bizTransactionList", "bizTransaction"},
        {"sourceList", "source"},
        {"destinationList", "destination"}};
    for (const Node* c : Members(n)) {
      const std::string name = MemberName(*c);
      const std::string at = pointer + "/" + name;
      if (event.find(name) != nullptr) {
        return Fail(Invalid("<" + c->qname + "> appears twice in one event", *c));
      }
      if (!c->ns.empty()) {
        event.set(name, Extension(*c, at));
      } else if (kText.contains(c->local)) {
        Record(at, *c);
        std::string text = Trim(c->text);
        if (c->local == "bizStep") text = JsonCbv(std::move(text), "bizstep");
        if (c->local == "disposition") text = JsonCbv(std::move(text), "disp");
        event.set(name, std::move(text));
      } else if (auto e = kEpcLists.find(c->local); e != kEpcLists.end()) {
        PEDIGREE_ASSIGN(list, Texts(*c, e->second, at));
        event.set(name, std::move(*list));
      } else if (kQuantityLists.contains(c->local)) {
        PEDIGREE_ASSIGN(list, Quantities(*c, at));
        event.set(name, std::move(*list));
      } else if (auto t = kTypedLists.find(c->local); t != kTypedLists.end()) {
        PEDIGREE_ASSIGN(list, Typed(*c, t->second, at));
        event.set(name, std::move(*list));
      } else if (c->local == "readPoint" || c->local == "bizLocation") {
        event.set(name, Place(*c, at));
      } else if (c->local == "ilmd") {
        PEDIGREE_ASSIGN(ilmd, ObjectOf(*c, at, false));
        event.set(name, std::move(*ilmd));
      } else if (c->local == "errorDeclaration") {
        PEDIGREE_ASSIGN(declaration, ObjectOf(*c, at, true));
        event.set(name, std::move(*declaration));
      } else if (c->local == "persistentDisposition") {
        Record(at, *c);
        JsonValue pd = JsonValue::Object();
        for (const Node* m : Members(*c)) {
          if (!m->ns.empty()) continue;
          if (m->local != "set" && m->local != "unset") {
            return Fail(Invalid(
                "<persistentDisposition> takes <set> and <unset>, not <" + m->qname + ">", *m));
          }
          if (pd.find(m->local) == nullptr) pd.set(m->local, JsonValue::Array());
          Record(at + "/" + m->local, *m);
          pd.find(m->local)->push_back(JsonValue::String(Trim(m->text)));
        }
        event.set(name, std::move(pd));
      } else if (c->local == "sensorElementList") {
        PEDIGREE_ASSIGN(sensors, Sensors(*c, at));
        event.set(name, std::move(*sensors));
      } else {
        return Fail(Invalid("<" + c->qname + "> is no member of an EPCIS " + n.local, *c));
      }
    }
    return event;
  }

  JsonValue Context() const {
    JsonValue context = JsonValue::Array();
    context.push_back(JsonValue::String(std::string(kEpcisContextUrl)));
    JsonValue prefixes = JsonValue::Object();
    for (const auto& [ns, prefix] : used_) prefixes.set(prefix, ns);
    if (!prefixes.as_object().empty()) context.push_back(std::move(prefixes));
    return context;
  }

 private:
  std::map<std::string, std::string> declared_;
  std::map<std::string, std::string> used_;
  std::set<std::string> taken_;
  XmlDocument& out_;
};

const Node* Child(const Node& n, std::string_view local) {
  for (const auto& c : n.children) {
    if (c->ns.empty() && c->local == local) return c.get();
  }
  return nullptr;
}

}  // namespace

bool LooksLikeXml(std::string_view text) {
  size_t i = text.find_first_not_of(" \t\r\n");
  if (i != std::string_view::npos && text.substr(i).starts_with("\xEF\xBB\xBF")) {
    i = text.find_first_not_of(" \t\r\n", i + 3);
  }
  return i != std::string_view::npos && text[i] == '<';
}

Error XmlDocument::Locate(const Error& error) const {
  const std::string& pointer = error.field();
  if (pointer.empty() || pointer.front() != '/') return error;
  std::string key = pointer;
  while (!key.empty()) {
    if (auto it = locations.find(key); it != locations.end()) {
      return error.at_field(it->second.path)
          .at_line_column(it->second.line, it->second.column)
          .with_detail("jsonPointer", pointer);
    }
    size_t slash = key.rfind('/');
    if (slash == std::string::npos) break;
    key.resize(slash);
  }
  return error;
}

Result<XmlDocument> ParseEpcisXml(std::string_view xml) {
  // Refused before parsing as well as in the parser: Expat would otherwise read the internal
  // subset, and no EPCIS document has one.
  for (std::string_view marker : {std::string_view("<!DOCTYPE"), std::string_view("<!ENTITY")}) {
    if (size_t at = xml.find(marker); at != std::string_view::npos) {
      auto [line, column] = LineColumn(xml, at);
      return Fail(Error("epcis.invalid_event",
                        "EPCIS XML takes no DTDs and no entities (they can read files or expand "
                        "without bound); found " +
                            std::string(marker))
                      .at_line_column(line, column));
    }
  }
  TreeBuilder builder;
  Poco::XML::SAXParser parser;
  parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, true);
  parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACE_PREFIXES, true);
  parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_GENERAL_ENTITIES, false);
  parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_PARAMETER_ENTITIES, false);
  parser.setContentHandler(&builder);
  parser.setErrorHandler(&builder);
  parser.setProperty(Poco::XML::XMLReader::PROPERTY_LEXICAL_HANDLER,
                     static_cast<Poco::XML::LexicalHandler*>(&builder));
  try {
    parser.parseMemoryNP(xml.data(), xml.size());
  } catch (const Refusal& r) {
    return Fail(r.error);
  } catch (const Poco::XML::SAXParseException& e) {
    return Fail(Error("epcis.invalid_event", "the XML is not well-formed: " + e.message())
                    .at_line_column(static_cast<uint64_t>(e.getLineNumber()),
                                    static_cast<uint64_t>(e.getColumnNumber()) + 1));
  } catch (const Poco::Exception& e) {
    return Fail(Error("epcis.invalid_event", "the XML is not well-formed: " + e.displayText()));
  }
  if (builder.root == nullptr) return Fail(Error("epcis.invalid_event", "the XML has no element"));
  const Node& root = *builder.root;
  XmlDocument out;
  if (root.local != "EPCISDocument" ||
      (root.ns != kEpcis20XmlNamespace && root.ns != kEpcis12XmlNamespace)) {
    return Fail(
        Error("epcis.invalid_event", "the root element must be an EPCISDocument of the namespace " +
                                         std::string(kEpcis20XmlNamespace) + " (EPCIS 2.0) or " +
                                         std::string(kEpcis12XmlNamespace) + " (EPCIS 1.2), got <" +
                                         root.qname + "> of '" + root.ns + "'")
            .at_field(root.where.path)
            .at_line_column(root.where.line, root.where.column));
  }
  out.schema_version = root.ns == kEpcis20XmlNamespace ? "2.0" : "1.2";
  Mapper mapper(builder.prefixes, out);
  JsonValue document = JsonValue::Object();
  document.set("type", "EPCISDocument");
  // A 1.2 document becomes a 2.0 one: the members it has are the 2.0 members.
  document.set("schemaVersion", "2.0");
  if (const std::string* created = root.attribute("creationDate")) {
    document.set("creationDate", *created);
  }
  const Node* body = Child(root, "EPCISBody");
  const Node* list = body != nullptr ? Child(*body, "EventList") : nullptr;
  if (list == nullptr) {
    return Fail(mapper.Invalid("the EPCISDocument needs <EPCISBody><EventList>",
                               body != nullptr ? *body : root));
  }
  out.locations["/epcisBody"] = body->where;
  out.locations["/epcisBody/eventList"] = list->where;
  static const std::set<std::string> kEvents = {"ObjectEvent", "AggregationEvent",
                                                "TransactionEvent", "TransformationEvent",
                                                "AssociationEvent"};
  JsonValue events = JsonValue::Array();
  for (const Node* e : Mapper::Members(*list)) {
    if (!e->ns.empty() || !kEvents.contains(e->local)) {
      Error err = e->local == "QuantityEvent"
                      ? Error("epcis.unsupported",
                              "EPCIS 1.2 QuantityEvent has no EPCIS 2.0 form (an ObjectEvent with "
                              "a quantityList replaces it)")
                      : Error("epcis.invalid_event", "<" + e->qname + "> is no EPCIS event");
      return Fail(err.at_field(e->where.path).at_line_column(e->where.line, e->where.column));
    }
    PEDIGREE_ASSIGN(event, mapper.Event(*e, "/epcisBody/eventList/" +
                                                std::to_string(events.as_array().size())));
    events.push_back(std::move(*event));
  }
  document.set("@context", mapper.Context());
  document.set("epcisBody", JsonValue::Object().set("eventList", std::move(events)));
  out.document = std::move(document);
  return out;
}

}  // namespace pedigree::scanner::epcis

namespace pedigree::scanner::epcis {
namespace {

std::string Escaped(std::string_view s, bool attribute) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += attribute ? "&quot;" : "\"";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string Scalar(const JsonValue& v) {
  if (v.is_string()) return v.as_string();
  if (v.is_int()) return std::to_string(v.as_int());
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  std::string c = Canonicalize(v);
  return c;
}

// A compact CBV word as its URN (the XML binding's usual form); URIs are kept.
std::string CbvUrn(const JsonValue& v, std::string_view urn_kind) {
  std::string s = Scalar(v);
  if (s.empty() || s.find(':') != std::string::npos) return s;
  return "urn:epcglobal:cbv:" + std::string(urn_kind) + ":" + s;
}

class XmlWriter {
 public:
  explicit XmlWriter(std::map<std::string, std::string> prefixes)
      : prefixes_(std::move(prefixes)) {}

  Status CheckName(const std::string& name, const std::string& pointer) {
    size_t colon = name.find(':');
    if (colon == std::string::npos) return {};
    std::string prefix = name.substr(0, colon);
    if (!prefixes_.contains(prefix)) {
      return Fail(Error("epcis.invalid_event", "the extension prefix '" + prefix + "' of '" + name +
                                                   "' is defined by no @context")
                      .at_field(pointer));
    }
    used_.insert(prefix);
    return {};
  }

  // A member of no special form: text, or nested elements for objects and arrays.
  Status Generic(const std::string& name, const JsonValue& v, const std::string& pointer,
                 int indent) {
    PEDIGREE_TRY(CheckName(name, pointer));
    const std::string pad(static_cast<size_t>(indent) * 2, ' ');
    if (v.is_array()) {
      size_t i = 0;
      for (const JsonValue& e : v.as_array()) {
        PEDIGREE_TRY(Generic(name, e, pointer + "/" + std::to_string(i++), indent));
      }
      return {};
    }
    if (v.is_object()) {
      out_ += pad + "<" + name + ">\n";
      for (const auto& [k, m] : v.as_object()) {
        if (k.starts_with("@")) continue;
        PEDIGREE_TRY(Generic(k, m, pointer + "/" + k, indent + 1));
      }
      out_ += pad + "</" + name + ">\n";
      return {};
    }
    out_ += pad + "<" + name + ">" + Escaped(Scalar(v), false) + "</" + name + ">\n";
    return {};
  }

  void Texts(const std::string& name, std::string_view item, const JsonValue& v, int indent) {
    const std::string pad(static_cast<size_t>(indent) * 2, ' ');
    out_ += pad + "<" + name + ">\n";
    if (v.is_array()) {
      for (const JsonValue& e : v.as_array()) {
        out_ += pad + "  <" + std::string(item) + ">" + Escaped(Scalar(e), false) + "</" +
                std::string(item) + ">\n";
      }
    }
    out_ += pad + "</" + name + ">\n";
  }

  void Typed(const std::string& name, const std::string& item, std::string_view urn_kind,
             const JsonValue& v, int indent) {
    const std::string pad(static_cast<size_t>(indent) * 2, ' ');
    out_ += pad + "<" + name + ">\n";
    if (v.is_array()) {
      for (const JsonValue& e : v.as_array()) {
        const JsonValue* type = e.find("type");
        const JsonValue* id = e.find(item);
        out_ += pad + "  <" + item;
        if (type != nullptr) out_ += " type=\"" + Escaped(CbvUrn(*type, urn_kind), true) + "\"";
        out_ += ">" + Escaped(id != nullptr ? Scalar(*id) : "", false) + "</" + item + ">\n";
      }
    }
    out_ += pad + "</" + name + ">\n";
  }

  Status Attributes(const std::string& name, const JsonValue& v, const std::string& pointer,
                    int indent) {
    out_ += std::string(static_cast<size_t>(indent) * 2, ' ') + "<" + name;
    if (v.is_object()) {
      for (const auto& [k, m] : v.as_object()) {
        PEDIGREE_TRY(CheckName(k, pointer + "/" + k));
        out_ += " " + k + "=\"" + Escaped(Scalar(m), true) + "\"";
      }
    }
    out_ += "/>\n";
    return {};
  }

  Status Event(const JsonValue& e, const std::string& pointer) {
    const JsonValue* type = e.find("type");
    if (type == nullptr || !type->is_string()) {
      return Fail(
          Error("epcis.invalid_event", "the event has no type").at_field(pointer + "/type"));
    }
    const std::string& t = type->as_string();
    out_ += "      <" + t + ">\n";
    static const std::vector<std::string> kOrder = {"eventTime",
                                                    "recordTime",
                                                    "eventTimeZoneOffset",
                                                    "certificationInfo",
                                                    "eventID",
                                                    "errorDeclaration",
                                                    "parentID",
                                                    "epcList",
                                                    "childEPCs",
                                                    "inputEPCList",
                                                    "inputQuantityList",
                                                    "outputEPCList",
                                                    "outputQuantityList",
                                                    "transformationID",
                                                    "action",
                                                    "bizStep",
                                                    "disposition",
                                                    "persistentDisposition",
                                                    "readPoint",
                                                    "bizLocation",
                                                    "bizTransactionList",
                                                    "quantityList",
                                                    "childQuantityList",
                                                    "sourceList",
                                                    "destinationList",
                                                    "sensorElementList",
                                                    "ilmd"};
    std::set<std::string> done = {"type"};
    for (const std::string& name : kOrder) {
      const JsonValue* v = e.find(name);
      if (v == nullptr) continue;
      done.insert(name);
      PEDIGREE_TRY(Member(name, *v, pointer + "/" + name));
    }
    for (const auto& [name, v] : e.as_object()) {
      if (done.contains(name) || name.starts_with("@")) continue;
      PEDIGREE_TRY(Generic(name, v, pointer + "/" + name, 4));
    }
    out_ += "      </" + t + ">\n";
    return {};
  }

  Status Member(const std::string& name, const JsonValue& v, const std::string& pointer) {
    const int in = 4;
    const std::string pad(static_cast<size_t>(in) * 2, ' ');
    if (name == "epcList" || name == "childEPCs" || name == "inputEPCList" ||
        name == "outputEPCList") {
      Texts(name, "epc", v, in);
    } else if (name == "bizStep") {
      out_ += pad + "<bizStep>" + Escaped(CbvUrn(v, "bizstep"), false) + "</bizStep>\n";
    } else if (name == "disposition") {
      out_ += pad + "<disposition>" + Escaped(CbvUrn(v, "disp"), false) + "</disposition>\n";
    } else if (name == "bizTransactionList") {
      Typed(name, "bizTransaction", "btt", v, in);
    } else if (name == "sourceList") {
      Typed(name, "source", "sdt", v, in);
    } else if (name == "destinationList") {
      Typed(name, "destination", "sdt", v, in);
    } else if (name.ends_with("uantityList")) {
      out_ += pad + "<" + name + ">\n";
      size_t i = 0;
      for (const JsonValue& q : v.is_array() ? v.as_array() : JsonArray{}) {
        PEDIGREE_TRY(Generic("quantityElement", q, pointer + "/" + std::to_string(i++), in + 1));
      }
      out_ += pad + "</" + name + ">\n";
    } else if (name == "persistentDisposition") {
      out_ += pad + "<persistentDisposition>\n";
      for (const char* k : {"set", "unset"}) {
        const JsonValue* list = v.find(k);
        if (list == nullptr || !list->is_array()) continue;
        for (const JsonValue& d : list->as_array()) {
          out_ += pad + "  <" + k + ">" + Escaped(CbvUrn(d, "disp"), false) + "</" + k + ">\n";
        }
      }
      out_ += pad + "</persistentDisposition>\n";
    } else if (name == "errorDeclaration") {
      out_ += pad + "<errorDeclaration>\n";
      for (const auto& [k, m] : v.is_object() ? v.as_object() : JsonObject{}) {
        if (k == "correctiveEventIDs") {
          Texts(k, "correctiveEventID", m, in + 1);
        } else {
          PEDIGREE_TRY(Generic(k, m, pointer + "/" + k, in + 1));
        }
      }
      out_ += pad + "</errorDeclaration>\n";
    } else if (name == "sensorElementList") {
      out_ += pad + "<sensorElementList>\n";
      size_t i = 0;
      for (const JsonValue& se : v.is_array() ? v.as_array() : JsonArray{}) {
        std::string at = pointer + "/" + std::to_string(i++);
        out_ += pad + "  <sensorElement>\n";
        if (const JsonValue* meta = se.find("sensorMetadata")) {
          PEDIGREE_TRY(Attributes("sensorMetadata", *meta, at + "/sensorMetadata", in + 2));
        }
        if (const JsonValue* reports = se.find("sensorReport"); reports && reports->is_array()) {
          size_t j = 0;
          for (const JsonValue& r : reports->as_array()) {
            PEDIGREE_TRY(
                Attributes("sensorReport", r, at + "/sensorReport/" + std::to_string(j++), in + 2));
          }
        }
        for (const auto& [k, m] : se.is_object() ? se.as_object() : JsonObject{}) {
          if (k == "sensorMetadata" || k == "sensorReport") continue;
          PEDIGREE_TRY(Generic(k, m, at + "/" + k, in + 2));
        }
        out_ += pad + "  </sensorElement>\n";
      }
      out_ += pad + "</sensorElementList>\n";
    } else {
      // eventTime, ids, readPoint/bizLocation, ilmd and the other plain members.
      PEDIGREE_TRY(Generic(name, v, pointer, in));
    }
    return {};
  }

  std::string Declarations() const {
    std::string out;
    for (const std::string& p : used_) {
      std::string ns = prefixes_.at(p);
      // The CBV master-data namespace is written without the JSON-LD context's trailing colon,
      // as the XML binding and ParseEpcisXml have it.
      if (p == "cbvmda" && ns.ends_with(":")) ns.pop_back();
      out += " xmlns:" + p + "=\"" + Escaped(ns, true) + "\"";
    }
    return out;
  }

  std::string& out() { return out_; }

 private:
  std::map<std::string, std::string> prefixes_;
  std::set<std::string> used_;
  std::string out_;
};

}  // namespace

Result<std::string> DocumentToXml(const JsonValue& document) {
  const JsonValue* body = document.find("epcisBody");
  const JsonValue* list = body != nullptr ? body->find("eventList") : nullptr;
  if (list == nullptr || !list->is_array()) {
    return Fail(Error("epcis.invalid_event", "an EPCISDocument with epcisBody.eventList")
                    .at_field("/epcisBody/eventList"));
  }
  std::map<std::string, std::string> prefixes = {
      {"cbvmda", "urn:epcglobal:cbv:mda:"},
      {"gs1", "https://gs1.org/voc/"},
      {std::string(kPedigreePrefix), std::string(kPedigreeNamespace)}};
  for (auto& [p, iri] : ContextPrefixes(document)) prefixes[p] = iri;
  XmlWriter writer(std::move(prefixes));
  for (size_t i = 0; i < list->as_array().size(); ++i) {
    PEDIGREE_TRY(writer.Event(list->as_array()[i], "/epcisBody/eventList/" + std::to_string(i)));
  }
  std::string head =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<epcis:EPCISDocument xmlns:epcis=\"" +
      std::string(kEpcis20XmlNamespace) + "\"" + writer.Declarations() + " schemaVersion=\"2.0\"";
  if (const JsonValue* created = document.find("creationDate"); created && created->is_string()) {
    head += " creationDate=\"" + Escaped(created->as_string(), true) + "\"";
  }
  head += ">\n  <EPCISBody>\n    <EventList>\n";
  return head + writer.out() + "    </EventList>\n  </EPCISBody>\n</epcis:EPCISDocument>\n";
}

}  // namespace pedigree::scanner::epcis
