// The FT-over-HTTP XML decoders against arbitrary bytes: never crash, stay within their bounds, and what
// they accept encodes and decodes to the same document.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fthttp/ft_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  if (auto doc = cpmgw::fthttp::decodeFtDocument(xml)) {
    if (doc->file.name.size() > cpmgw::fthttp::kMaxXmlField || doc->file.url.size() > cpmgw::fthttp::kMaxXmlField)
      __builtin_trap();
    auto again = cpmgw::fthttp::decodeFtDocument(cpmgw::fthttp::encodeFtDocument(*doc));
    // Names with characters XML cannot carry are written with '_' instead: compare the rest.
    if (!again || again->file.size != doc->file.size || again->file.url.size() != doc->file.url.size() ||
        again->file.until != doc->file.until || again->thumbnail.has_value() != doc->thumbnail.has_value())
      __builtin_trap();
  }
  if (auto info = cpmgw::fthttp::decodeResumeInfo(xml)) {
    if (info->end < info->start) __builtin_trap();
    auto again = cpmgw::fthttp::decodeResumeInfo(cpmgw::fthttp::encodeResumeInfo(*info));
    if (!again || again->start != info->start || again->end != info->end) __builtin_trap();
  }
  return 0;
}
