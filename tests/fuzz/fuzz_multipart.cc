// The streaming multipart parser against arbitrary bodies cut at an arbitrary point: it either refuses
// with MultipartError or delivers the same parts whichever way the body was cut.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fthttp/multipart.h"

namespace {

struct Collect : cpmgw::fthttp::MultipartParser::Handler {
  std::vector<std::pair<std::string, std::string>> parts;
  void partBegin(const cpmgw::fthttp::PartHeaders& h) override { parts.emplace_back(h.name, std::string()); }
  void partData(std::string_view bytes) override {
    if (parts.empty()) __builtin_trap();
    parts.back().second.append(bytes);
  }
  void partEnd() override {}
};

// Parts and completeness, or nullopt when the parser refused the body.
bool run(std::string_view body, std::size_t cut, Collect& out, bool& complete) {
  cpmgw::fthttp::MultipartParser parser("b0undary", out);
  try {
    parser.feed(body.substr(0, cut));
    parser.feed(body.substr(cut));
  } catch (const cpmgw::fthttp::MultipartError&) {
    return false;
  }
  complete = parser.complete();
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t cut = data[0] % size;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  Collect whole, pieces;
  bool completeWhole = false, completePieces = false;
  bool okWhole = run(body, body.size(), whole, completeWhole);
  bool okPieces = run(body, std::min(cut, body.size()), pieces, completePieces);
  if (okWhole != okPieces) __builtin_trap();
  if (okWhole && (whole.parts != pieces.parts || completeWhole != completePieces)) __builtin_trap();
  (void)cpmgw::fthttp::multipartBoundary(body);
  return 0;
}
