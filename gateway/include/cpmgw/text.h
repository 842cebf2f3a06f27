// Small text helpers shared by the protocol codecs.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cpmgw {

// Length of the well-formed UTF-8 sequence at s[i] (1 for ASCII), 0 when it is malformed, overlong, a
// surrogate or beyond U+10FFFF, or when i is past the end.
std::size_t utf8Length(std::string_view s, std::size_t i);
// Well-formed UTF-8 throughout.
bool isUtf8(std::string_view s);

// Text from a peer made fit for a log line or a JSON answer: CR and LF become spaces; the other control
// characters (C0 but TAB, DEL, and the C1 controls U+0080..U+009F) and every byte that is not part of
// well-formed UTF-8 are written as \xNN, byte by byte; a backslash as \\, so that what a peer sent as
// "\x1b" stays apart from an escaped ESC. The result is well-formed UTF-8 on one line.
std::string printable(std::string_view text);

// Text made safe inside XML or HTML content and attribute values: & < > " ' become entity references,
// TAB, LF and CR character references (so attribute values keep them), other control characters '_'.
std::string escapeMarkup(std::string_view text);

}  // namespace cpmgw
