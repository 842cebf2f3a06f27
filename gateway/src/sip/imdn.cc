// IMDN documents (RFC 5438) through Poco's SAX parser (expat underneath). The handler never throws:
// it keeps the first error and ignores the rest of the document, so no C++ exception has to unwind
// through expat's C frames for a rule of ours; only expat's own well-formedness errors arrive as
// Poco exceptions.
#include "sip/imdn.h"

#include <Poco/Exception.h>
#include <Poco/SAX/Attributes.h>
#include <Poco/SAX/DefaultHandler.h>
#include <Poco/SAX/LexicalHandler.h>
#include <Poco/SAX/SAXParser.h>
#include <Poco/SAX/XMLReader.h>

#include <algorithm>
#include <exception>
#include <vector>

#include "cpmgw/text.h"
#include "sip/cpim.h"

namespace cpmgw::imdn {

namespace {

using Poco::XML::XMLChar;
using Poco::XML::XMLString;

constexpr std::size_t kMaxMessageId = 256;  // the same bound the CPIM parser puts on imdn.Message-ID
constexpr std::size_t kMaxText = 4096;      // raw text of any one leaf element, whitespace included
constexpr std::size_t kMaxDepth = 16;       // RFC 5438 documents are 4 deep; extensions get some room
constexpr std::size_t kMaxElements = 256;

bool isXmlSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trimXmlSpace(std::string_view s) {
  while (!s.empty() && isXmlSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isXmlSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

// U+FFFE and U+FFFF are valid UTF-8 but not XML characters; an RFC 3862 Token may carry them, so a
// message-id taken from CPIM must be checked before it goes into a document.
bool hasNonXmlCharacter(std::string_view s) {
  return s.find("\xef\xbf\xbe") != std::string_view::npos || s.find("\xef\xbf\xbf") != std::string_view::npos;
}

// The field rules shared by parse() and serialize(); nullptr when n is fine.
const char* check(const Notification& n) {
  if (n.messageId.empty()) return "missing message-id";
  if (!cpim::isToken(n.messageId) || n.messageId.size() > kMaxMessageId || hasNonXmlCharacter(n.messageId))
    return "bad message-id";
  if (n.dateTime.empty()) return "missing datetime";
  if (!cpim::isDateTime(n.dateTime)) return "bad datetime";
  if (!n.recipientUri.empty() && !cpim::isAbsoluteUri(n.recipientUri)) return "bad recipient-uri";
  if (!n.originalRecipientUri.empty() && !cpim::isAbsoluteUri(n.originalRecipientUri))
    return "bad original-recipient-uri";
  if (!isStatus(n.kind, n.status)) return "unknown status";
  return nullptr;
}

// The encoding declaration, if the document has one, must name UTF-8: we checked the bytes as UTF-8
// and told expat to read them so, and a document claiming otherwise is lying about one or the other.
bool declaresOtherEncoding(std::string_view xml) {
  if (xml.substr(0, 3) == "\xef\xbb\xbf") xml.remove_prefix(3);
  if (xml.substr(0, 5) != "<?xml") return false;
  std::string_view decl = xml.substr(0, xml.find("?>"));
  std::size_t at = decl.find("encoding");
  if (at == std::string_view::npos) return false;
  std::size_t open = decl.find_first_of("\"'", at);
  if (open == std::string_view::npos) return true;
  std::size_t close = decl.find(decl[open], open + 1);
  if (close == std::string_view::npos) return true;
  return !iequals(decl.substr(open + 1, close - open - 1), "UTF-8");
}

class Handler : public Poco::XML::DefaultHandler, public Poco::XML::LexicalHandler {
 public:
  const char* problem() const { return error_; }
  const Notification& result() const { return n_; }

  void startElement(const XMLString& uri, const XMLString& localName, const XMLString&,
                    const Poco::XML::Attributes&) override {
    if (error_) return;
    if (++depth_ > kMaxDepth) return fail("IMDN nested too deep");
    if (++elements_ > kMaxElements) return fail("too many IMDN elements");
    if (skipDepth_ > 0) {
      ++skipDepth_;
      return;
    }
    bool ours = uri == kNamespace;
    if (stack_.empty()) {
      if (localName != "imdn") return fail("root element is not imdn");
      if (!ours) return fail("imdn not in urn:ietf:params:xml:ns:imdn");
      stack_.push_back(Element::Imdn);
      return;
    }
    Element parent = stack_.back();
    if (isLeaf(parent)) return fail("element inside an IMDN text element");
    if (uri.empty()) return fail("IMDN element without namespace");
    if (!ours) {
      // RFC 5438 extensions live in other namespaces; we understand none of them.
      skipDepth_ = 1;
      return;
    }
    switch (parent) {
      case Element::Imdn:
        return imdnChild(localName);
      case Element::Notification:
        if (localName != "status") return fail("unknown IMDN element");
        if (seenStatus_) return fail("more than one status");
        seenStatus_ = true;
        stack_.push_back(Element::Status);
        return;
      case Element::Status:
        if (!n_.status.empty()) return fail("more than one status");
        if (!isStatus(n_.kind, localName)) return fail("unknown status");
        n_.status = localName;
        stack_.push_back(Element::StatusValue);
        return;
      default:
        return fail("unknown IMDN element");
    }
  }

  void endElement(const XMLString&, const XMLString&, const XMLString&) override {
    if (error_) return;
    --depth_;
    if (skipDepth_ > 0) {
      --skipDepth_;
      return;
    }
    Element done = stack_.back();
    stack_.pop_back();
    if (isText(done)) {
      std::string value(trimXmlSpace(text_));
      text_.clear();
      // Present but empty is malformed, not missing: check() would otherwise take it for absent.
      if (value.empty() && done != Element::Subject) return fail(badValue(done));
      switch (done) {
        case Element::MessageId:
          n_.messageId = std::move(value);
          break;
        case Element::DateTime:
          n_.dateTime = std::move(value);
          break;
        case Element::RecipientUri:
          n_.recipientUri = std::move(value);
          break;
        case Element::OriginalRecipientUri:
          n_.originalRecipientUri = std::move(value);
          break;
        default:
          break;  // subject: accepted, not used
      }
    } else if ((done == Element::Notification && !seenStatus_) || (done == Element::Status && n_.status.empty())) {
      fail("missing status");
    }
  }

  void characters(const XMLChar ch[], int start, int length) override {
    if (error_ || skipDepth_ > 0 || stack_.empty()) return;
    std::string_view text(ch + start, static_cast<std::size_t>(length));
    if (isText(stack_.back())) {
      if (text_.size() + text.size() > kMaxText) return fail("IMDN text too long");
      text_.append(text);
    } else if (!std::all_of(text.begin(), text.end(), isXmlSpace)) {
      fail("unexpected text in IMDN");
    }
  }

  void processingInstruction(const XMLString&, const XMLString&) override { fail("processing instruction in IMDN"); }
  void skippedEntity(const XMLString&) override { fail("entity reference in IMDN"); }

  // LexicalHandler. A DOCTYPE never gets here (parse() refuses it first); this is the second lock.
  void startDTD(const XMLString&, const XMLString&, const XMLString&) override { fail("DOCTYPE not allowed"); }
  void endDTD() override {}
  void startEntity(const XMLString&) override { fail("entity reference in IMDN"); }
  void endEntity(const XMLString&) override {}
  void startCDATA() override {}
  void endCDATA() override {}
  void comment(const XMLChar[], int, int) override {}

  void finish() {
    if (error_) return;
    if (stack_.size() != 0 || skipDepth_ != 0) return fail("truncated IMDN");
    if (!seenNotification_) return fail("missing notification");
    if (const char* problem = check(n_)) fail(problem);
  }

 private:
  enum class Element {
    Imdn,
    MessageId,
    DateTime,
    RecipientUri,
    OriginalRecipientUri,
    Subject,
    Notification,
    Status,
    StatusValue,
  };

  // Elements whose content is text.
  static bool isText(Element e) {
    return e == Element::MessageId || e == Element::DateTime || e == Element::RecipientUri ||
           e == Element::OriginalRecipientUri || e == Element::Subject;
  }
  // Elements that may not have child elements: the text ones and the empty status values.
  static bool isLeaf(Element e) { return isText(e) || e == Element::StatusValue; }

  static const char* badValue(Element e) {
    switch (e) {
      case Element::MessageId:
        return "bad message-id";
      case Element::DateTime:
        return "bad datetime";
      case Element::RecipientUri:
        return "bad recipient-uri";
      default:
        return "bad original-recipient-uri";
    }
  }

  void fail(const char* reason) {
    if (!error_) error_ = reason;
  }

  void imdnChild(const XMLString& name) {
    struct Leaf {
      const char* name;
      Element element;
      const char* duplicate;
    };
    static constexpr Leaf kLeaves[] = {
        {"message-id", Element::MessageId, "more than one message-id"},
        {"datetime", Element::DateTime, "more than one datetime"},
        {"recipient-uri", Element::RecipientUri, "more than one recipient-uri"},
        {"original-recipient-uri", Element::OriginalRecipientUri, "more than one original-recipient-uri"},
        {"subject", Element::Subject, "more than one subject"},
    };
    for (const Leaf& leaf : kLeaves) {
      if (name != leaf.name) continue;
      auto index = static_cast<std::size_t>(leaf.element);
      if (seenLeaf_[index]) return fail(leaf.duplicate);
      seenLeaf_[index] = true;
      stack_.push_back(leaf.element);
      return;
    }
    if (name == "delivery-notification" || name == "display-notification") {
      if (seenNotification_) return fail("more than one notification");
      seenNotification_ = true;
      n_.kind = name == "delivery-notification" ? Kind::Delivery : Kind::Display;
      stack_.push_back(Element::Notification);
      return;
    }
    if (name == "processing-notification") return fail("processing-notification not supported");
    fail("unknown IMDN element");
  }

  Notification n_;
  const char* error_ = nullptr;
  std::vector<Element> stack_;  // the understood elements we are in
  std::size_t skipDepth_ = 0;   // > 0 inside a skipped extension element
  std::size_t depth_ = 0;
  std::size_t elements_ = 0;
  std::string text_;
  bool seenLeaf_[static_cast<std::size_t>(Element::StatusValue) + 1] = {};
  bool seenNotification_ = false;
  bool seenStatus_ = false;
};

void element(std::string& out, std::string_view name, std::string_view text) {
  out.append("<").append(name).append(">");
  out += escapeMarkup(text);
  out.append("</").append(name).append(">\r\n");
}

}  // namespace

bool isStatus(Kind kind, std::string_view status) {
  if (status == "forbidden" || status == "error") return true;
  return kind == Kind::Delivery ? status == "delivered" || status == "failed" : status == "displayed";
}

std::optional<Notification> parse(std::string_view xml, std::string* error) {
  auto reject = [error](const char* reason) -> std::optional<Notification> {
    if (error) *error = reason;
    return std::nullopt;
  };
  if (xml.empty()) return reject("empty IMDN");
  if (xml.size() > kMaxDocument) return reject("IMDN too large");
  if (!isUtf8(xml)) return reject("IMDN not UTF-8");
  // Refused on sight rather than configured away: without a DTD there is nothing to expand, whatever
  // the parser's entity settings are.
  if (xml.find("<!DOCTYPE") != std::string_view::npos || xml.find("<!ENTITY") != std::string_view::npos)
    return reject("DOCTYPE not allowed");
  if (declaresOtherEncoding(xml)) return reject("IMDN encoding is not UTF-8");

  Handler handler;
  Poco::XML::SAXParser parser;
  parser.setEncoding("UTF-8");
  parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, true);
  // With prefixes off, Poco 1.11 reports an element in no namespace (xmlns="") with the URI of the element
  // before it, which would let <message-id xmlns=""> pass for ours; the prefix-reporting path is right.
  parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACE_PREFIXES, true);
  parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_GENERAL_ENTITIES, false);
  parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_PARAMETER_ENTITIES, false);
  parser.setContentHandler(&handler);
  parser.setEntityResolver(&handler);
  parser.setDTDHandler(&handler);
  parser.setProperty(Poco::XML::XMLReader::PROPERTY_LEXICAL_HANDLER, static_cast<Poco::XML::LexicalHandler*>(&handler));
  try {
    parser.parseMemoryNP(xml.data(), xml.size());
  } catch (const Poco::Exception&) {
    return reject(handler.problem() ? handler.problem() : "malformed XML");
  } catch (const std::exception&) {
    return reject(handler.problem() ? handler.problem() : "malformed XML");
  }
  handler.finish();
  if (handler.problem()) return reject(handler.problem());
  return handler.result();
}

std::string serialize(const Notification& n) {
  if (check(n) != nullptr) return {};
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<imdn xmlns=\"";
  out.append(kNamespace).append("\">\r\n");
  element(out, "message-id", n.messageId);
  element(out, "datetime", n.dateTime);
  if (!n.recipientUri.empty()) element(out, "recipient-uri", n.recipientUri);
  if (!n.originalRecipientUri.empty()) element(out, "original-recipient-uri", n.originalRecipientUri);
  const char* kind = n.kind == Kind::Delivery ? "delivery-notification" : "display-notification";
  out.append("<").append(kind).append("><status><").append(n.status).append("/></status></");
  out.append(kind).append(">\r\n</imdn>\r\n");
  return out;
}

}  // namespace cpmgw::imdn
