#include "fthttp/ft_xml.h"

#include <Poco/Exception.h>
#include <Poco/SAX/Attributes.h>
#include <Poco/SAX/DefaultHandler.h>
#include <Poco/SAX/LexicalHandler.h>
#include <Poco/SAX/SAXParser.h>

#include <cstdio>
#include <vector>

#include "cpmgw/text.h"

namespace cpmgw::fthttp {

namespace {

void appendFileInfo(std::string& out, const FileInfo& info, bool thumbnail) {
  out += "<file-info type=\"";
  out += thumbnail ? "thumbnail" : "file";
  out += '"';
  if (!thumbnail && !info.disposition.empty()) out += " file-disposition=\"" + escapeMarkup(info.disposition) + "\"";
  out += ">\n";
  out += "<file-size>" + std::to_string(info.size) + "</file-size>\n";
  if (!thumbnail) out += "<file-name>" + escapeMarkup(info.name) + "</file-name>\n";
  out += "<content-type>" + escapeMarkup(info.contentType) + "</content-type>\n";
  out += "<data url=\"" + escapeMarkup(info.url) + "\" until=\"" + formatUntil(info.until) + "\"/>\n";
  out += "</file-info>\n";
}

// A bounded element tree: what the SAX events of an accepted document build.
struct Node {
  std::string ns, name;
  std::vector<std::pair<std::string, std::string>> attrs;  // local names of unqualified attributes
  std::string text;
  std::vector<Node> children;
  const std::string* attr(const std::string& n) const {
    for (const auto& [k, v] : attrs)
      if (k == n) return &v;
    return nullptr;
  }
};

class TreeBuilder final : public Poco::XML::DefaultHandler, public Poco::XML::LexicalHandler {
 public:
  Node root;
  std::string error;

  void startElement(const Poco::XML::XMLString& uri, const Poco::XML::XMLString& localName, const Poco::XML::XMLString&,
                    const Poco::XML::Attributes& attributes) override {
    if (!error.empty()) return;
    if (++elements_ > kMaxXmlElements) return fail("too many elements");
    if (stack_.size() >= kMaxXmlDepth) return fail("nested too deeply");
    if (attributes.getLength() > 16) return fail("too many attributes");
    Node node;
    node.ns = uri;
    node.name = localName;
    for (int i = 0; i < attributes.getLength(); ++i) {
      if (attributes.getValue(i).size() > kMaxXmlField) return fail("attribute too long");
      // Attributes of other namespaces are extensions we do not read.
      if (!attributes.getURI(i).empty()) continue;
      node.attrs.emplace_back(attributes.getLocalName(i), attributes.getValue(i));
    }
    if (stack_.empty()) {
      if (sawRoot_) return fail("more than one root element");
      sawRoot_ = true;
      root = std::move(node);
      stack_.push_back(&root);
    } else {
      stack_.back()->children.push_back(std::move(node));
      stack_.push_back(&stack_.back()->children.back());
    }
  }
  void endElement(const Poco::XML::XMLString&, const Poco::XML::XMLString&, const Poco::XML::XMLString&) override {
    if (!error.empty() || stack_.empty()) return;
    stack_.pop_back();
  }
  void characters(const Poco::XML::XMLChar ch[], int start, int length) override {
    if (!error.empty() || stack_.empty()) return;
    std::string& text = stack_.back()->text;
    if (text.size() + static_cast<std::size_t>(length) > kMaxXmlField) return fail("element text too long");
    text.append(ch + start, static_cast<std::size_t>(length));
  }
  // A DOCTYPE is refused before parsing; this is the second line should one get through.
  void startDTD(const Poco::XML::XMLString&, const Poco::XML::XMLString&, const Poco::XML::XMLString&) override {
    fail("DOCTYPE not allowed");
  }
  void endDTD() override {}
  void startEntity(const Poco::XML::XMLString&) override { fail("entities not allowed"); }
  void endEntity(const Poco::XML::XMLString&) override {}
  void startCDATA() override {}
  void endCDATA() override {}
  void comment(const Poco::XML::XMLChar[], int, int) override {}

 private:
  void fail(const std::string& why) {
    if (error.empty()) error = why;
  }
  // Pointers into `root`: children vectors only grow at the back of the innermost open element, so
  // the pointers of open ancestors stay valid.
  std::vector<Node*> stack_;
  std::size_t elements_ = 0;
  bool sawRoot_ = false;
};

std::optional<Node> parseTree(std::string_view xml, std::string& error) {
  if (xml.size() > kMaxXmlDocument) {
    error = "document larger than " + std::to_string(kMaxXmlDocument) + " bytes";
    return std::nullopt;
  }
  // No markup declarations at all (DOCTYPE, ENTITY, ...): only comments and CDATA may start with "<!".
  for (auto pos = xml.find("<!"); pos != std::string_view::npos; pos = xml.find("<!", pos + 2)) {
    auto rest = xml.substr(pos);
    if (rest.substr(0, 4) != "<!--" && rest.substr(0, 9) != "<![CDATA[") {
      error = "markup declarations (DOCTYPE, ENTITY) are not allowed";
      return std::nullopt;
    }
  }
  TreeBuilder builder;
  try {
    Poco::XML::SAXParser parser;
    parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, true);
    parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACE_PREFIXES, false);
    parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_GENERAL_ENTITIES, false);
    parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_PARAMETER_ENTITIES, false);
    parser.setContentHandler(&builder);
    parser.setProperty(Poco::XML::XMLReader::PROPERTY_LEXICAL_HANDLER,
                       static_cast<Poco::XML::LexicalHandler*>(&builder));
    parser.parseMemoryNP(xml.data(), xml.size());
  } catch (const Poco::Exception& e) {
    error = "not well-formed XML: " + e.message();
    return std::nullopt;
  }
  if (!builder.error.empty()) {
    error = builder.error;
    return std::nullopt;
  }
  return std::move(builder.root);
}

bool ours(const Node& n) {
  return n.ns == kFtHttpNamespace || n.ns.empty();
}

std::string_view trimmedText(const std::string& s) {
  std::string_view v(s);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t' || v.front() == '\n' || v.front() == '\r'))
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\n' || v.back() == '\r'))
    v.remove_suffix(1);
  return v;
}

bool parseUnsigned(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    auto d = static_cast<std::uint64_t>(c - '0');
    if (out > (UINT64_MAX - d) / 10) return false;
    out = out * 10 + d;
  }
  return true;
}

// Reads one <file-info>; error names what is wrong.
bool readFileInfo(const Node& n, bool thumbnail, FileInfo& info, std::string& error) {
  bool size = false, name = false, type = false, data = false;
  auto once = [&error](bool& seen, const char* what) {
    if (seen) error = std::string("repeated <") + what + ">";
    seen = true;
    return error.empty();
  };
  if (!thumbnail) {
    if (const auto* d = n.attr("file-disposition")) info.disposition = *d;
  }
  for (const Node& c : n.children) {
    if (!ours(c)) continue;
    if (c.name == "file-size") {
      if (!once(size, "file-size")) return false;
      if (!parseUnsigned(trimmedText(c.text), info.size)) {
        error = "file-size is not a number";
        return false;
      }
    } else if (c.name == "file-name") {
      if (!once(name, "file-name")) return false;
      info.name = std::string(trimmedText(c.text));
    } else if (c.name == "content-type") {
      if (!once(type, "content-type")) return false;
      info.contentType = std::string(trimmedText(c.text));
    } else if (c.name == "data") {
      if (!once(data, "data")) return false;
      const auto* url = c.attr("url");
      const auto* until = c.attr("until");
      if (!url || url->empty()) {
        error = "<data> without url";
        return false;
      }
      info.url = *url;
      auto t = until ? parseUntil(*until) : std::nullopt;
      if (!t) {
        error = "<data> without a valid until";
        return false;
      }
      info.until = *t;
    }
  }
  const char* missing = !size ? "file-size" : !type ? "content-type" : !data ? "data" : nullptr;
  if (!missing && !thumbnail && (!name || info.name.empty())) missing = "file-name";
  if (missing) {
    error = std::string(thumbnail ? "thumbnail" : "file") + " file-info without <" + missing + ">";
    return false;
  }
  if (info.contentType.empty()) {
    error = "empty content-type";
    return false;
  }
  return true;
}

void setError(std::string* out, const std::string& why) {
  if (out) *out = why;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace

std::string encodeFtDocument(const FtDocument& doc) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<file xmlns=\"";
  out += kFtHttpNamespace;
  out += "\">\n";
  if (doc.thumbnail) appendFileInfo(out, *doc.thumbnail, true);
  appendFileInfo(out, doc.file, false);
  out += "</file>\n";
  return out;
}

std::string encodeResumeInfo(const ResumeInfo& info) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<file-resume-info xmlns=\"";
  out += kFtHttpNamespace;
  out += "\">\n<file-range start=\"" + std::to_string(info.start) + "\" end=\"" + std::to_string(info.end) + "\"/>\n";
  out += "<data url=\"" + escapeMarkup(info.url) + "\"/>\n</file-resume-info>\n";
  return out;
}

std::optional<FtDocument> decodeFtDocument(std::string_view xml, std::string* error) {
  std::string why;
  auto root = parseTree(xml, why);
  if (!root) {
    setError(error, why);
    return std::nullopt;
  }
  if (!ours(*root) || root->name != "file") {
    setError(error, "the root element is not <file> of " + std::string(kFtHttpNamespace));
    return std::nullopt;
  }
  FtDocument doc;
  bool haveFile = false;
  for (const Node& c : root->children) {
    if (!ours(c) || c.name != "file-info") continue;
    const auto* type = c.attr("type");
    if (!type || (*type != "file" && *type != "thumbnail")) {
      setError(error, "file-info without type file or thumbnail");
      return std::nullopt;
    }
    bool thumbnail = *type == "thumbnail";
    if ((thumbnail && doc.thumbnail) || (!thumbnail && haveFile)) {
      setError(error, "repeated " + *type + " file-info");
      return std::nullopt;
    }
    FileInfo info;
    if (!readFileInfo(c, thumbnail, info, why)) {
      setError(error, why);
      return std::nullopt;
    }
    if (thumbnail) {
      doc.thumbnail = std::move(info);
    } else {
      doc.file = std::move(info);
      haveFile = true;
    }
  }
  if (!haveFile) {
    setError(error, "no file-info of type file");
    return std::nullopt;
  }
  return doc;
}

std::optional<ResumeInfo> decodeResumeInfo(std::string_view xml, std::string* error) {
  std::string why;
  auto root = parseTree(xml, why);
  if (!root) {
    setError(error, why);
    return std::nullopt;
  }
  if (!ours(*root) || root->name != "file-resume-info") {
    setError(error, "the root element is not <file-resume-info>");
    return std::nullopt;
  }
  ResumeInfo info;
  bool range = false, data = false;
  for (const Node& c : root->children) {
    if (!ours(c)) continue;
    if (c.name == "file-range") {
      const auto* start = c.attr("start");
      const auto* end = c.attr("end");
      if (range || !start || !end || !parseUnsigned(*start, info.start) || !parseUnsigned(*end, info.end) ||
          info.end < info.start) {
        setError(error, "missing, repeated or invalid <file-range>");
        return std::nullopt;
      }
      range = true;
    } else if (c.name == "data") {
      const auto* url = c.attr("url");
      if (data || !url || url->empty()) {
        setError(error, "missing or repeated <data url>");
        return std::nullopt;
      }
      info.url = *url;
      data = true;
    }
  }
  if (!range || !data) {
    setError(error, !range ? "no <file-range>" : "no <data url>");
    return std::nullopt;
  }
  return info;
}

std::string formatUntil(TimeMs t) {
  return formatTime(t);
}

std::optional<TimeMs> parseUntil(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  auto digits = [&s](std::size_t at, std::size_t n, int& out) {
    if (at + n > s.size()) return false;
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(0, 4, year) || s.size() < 19 || s[4] != '-' || !digits(5, 2, month) || s[7] != '-' ||
      !digits(8, 2, day) || (s[10] != 'T' && s[10] != 't') || !digits(11, 2, hour) || s[13] != ':' ||
      !digits(14, 2, minute) || s[16] != ':' || !digits(17, 2, second))
    return std::nullopt;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1] || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  std::size_t i = 19;
  std::int64_t millis = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::size_t start = i;
    int scale = 100;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      millis += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start || i - start > 9) return std::nullopt;
  }
  std::int64_t offsetMin = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh = 0, om = 0;
    if (!digits(i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' || !digits(i + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offsetMin = (oh * 60 + om) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  std::int64_t days = daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + std::min(second, 59) - offsetMin * 60;
  // An offset can move a time at either end out of the years 0000-9999, which formatUntil cannot write.
  if (seconds < -62167219200 || seconds > 253402300799) return std::nullopt;
  return seconds * 1000 + millis;
}

}  // namespace cpmgw::fthttp
