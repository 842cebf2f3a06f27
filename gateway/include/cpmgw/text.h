// Small text helpers shared by the protocol codecs.
#pragma once

#include <string>
#include <string_view>

namespace cpmgw {

// Text made safe inside XML or HTML content and attribute values: & < > " ' become entity references,
// TAB, LF and CR character references (so attribute values keep them), other control characters '_'.
std::string escapeMarkup(std::string_view text);

}  // namespace cpmgw
