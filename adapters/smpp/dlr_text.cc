#include "smpp/dlr_text.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <vector>

namespace cpmgw::smpp {
namespace {

enum class Field { Id, Sub, Dlvrd, SubmitDate, DoneDate, Stat, Err, Text };

struct Key {
  std::string_view name;  // lower case, without the colon
  Field field;
};

// Longer spellings first, so "submit date" wins over a shorter key at the same place.
constexpr std::array<Key, 15> kKeys = {{
    {"submit date", Field::SubmitDate},
    {"submit_date", Field::SubmitDate},
    {"submitdate", Field::SubmitDate},
    {"done date", Field::DoneDate},
    {"done_date", Field::DoneDate},
    {"donedate", Field::DoneDate},
    {"dlvrd", Field::Dlvrd},
    {"dlvr", Field::Dlvrd},
    {"stat", Field::Stat},
    {"status", Field::Stat},
    {"text", Field::Text},
    {"err", Field::Err},
    {"sub", Field::Sub},
    {"id", Field::Id},
    {"error", Field::Err},
}};

bool isBlank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool isBoundary(char c) {
  return isBlank(c) || c == ',' || c == ';' || c == '|';
}

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

// The key starting at `i` (after a boundary), with the position just after its colon.
std::optional<std::pair<Field, std::size_t>> keyAt(std::string_view s, std::size_t i) {
  std::optional<std::pair<Field, std::size_t>> best;
  std::size_t bestLen = 0;
  for (const auto& k : kKeys) {
    if (i + k.name.size() >= s.size() + 1) continue;
    bool match = true;
    for (std::size_t j = 0; j < k.name.size() && match; ++j) match = lower(s[i + j]) == k.name[j];
    if (!match) continue;
    std::size_t p = i + k.name.size();
    while (p < s.size() && (s[p] == ' ' || s[p] == '\t') && k.name != "text") ++p;  // "id : 1" and "id :1"
    if (p >= s.size() || s[p] != ':') continue;
    if (k.name.size() > bestLen) {
      best = std::make_pair(k.field, p + 1);
      bestLen = k.name.size();
    }
  }
  return best;
}

std::string firstToken(std::string_view s) {
  std::size_t b = 0;
  while (b < s.size() && isBlank(s[b])) ++b;
  std::size_t e = b;
  while (e < s.size() && !isBlank(s[e])) ++e;
  return std::string(s.substr(b, e - b));
}

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
  return out;
}

std::string formatDate(std::int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%y%m%d%H%M", &tm);
  return buf;
}

}  // namespace

std::optional<DlrText> parseDlrText(std::string_view s) {
  struct Match {
    Field field;
    std::size_t keyStart;
    std::size_t valueStart;
  };
  std::vector<Match> matches;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && !isBoundary(s[i - 1])) continue;
    if (auto k = keyAt(s, i)) {
      matches.push_back({k->first, i, k->second});
      i = k->second - 1;
    }
  }
  DlrText d;
  std::array<bool, 8> seen{};
  for (std::size_t m = 0; m < matches.size(); ++m) {
    const auto& cur = matches[m];
    auto slot = static_cast<std::size_t>(cur.field);
    if (seen[slot]) continue;  // the first occurrence counts; a repeat is likely inside the free text
    std::size_t end = s.size();
    if (cur.field == Field::Text) {
      // Free text runs to the end, unless a field not seen yet follows it (a receipt that puts text before stat).
      for (std::size_t n = m + 1; n < matches.size(); ++n) {
        auto later = static_cast<std::size_t>(matches[n].field);
        if (!seen[later] && matches[n].field != Field::Text) {
          end = matches[n].keyStart;
          break;
        }
      }
    } else if (m + 1 < matches.size()) {
      end = matches[m + 1].keyStart;
    }
    std::string_view value = s.substr(cur.valueStart, end - cur.valueStart);
    seen[slot] = true;
    switch (cur.field) {
      case Field::Id:
        d.id = firstToken(value);
        break;
      case Field::Sub:
        d.sub = firstToken(value);
        break;
      case Field::Dlvrd:
        d.dlvrd = firstToken(value);
        break;
      case Field::SubmitDate:
        d.submitDate = firstToken(value);
        break;
      case Field::DoneDate:
        d.doneDate = firstToken(value);
        break;
      case Field::Stat:
        d.stat = upper(firstToken(value));
        break;
      case Field::Err:
        d.err = firstToken(value);
        break;
      case Field::Text: {
        std::size_t e = value.size();
        while (e > 0 && isBlank(value[e - 1])) --e;
        d.text = std::string(value.substr(0, e));
        break;
      }
    }
  }
  if (d.id.empty()) return std::nullopt;
  bool receiptLike =
      !d.stat.empty() || !d.doneDate.empty() || !d.submitDate.empty() || !d.dlvrd.empty() || !d.err.empty();
  if (!receiptLike) return std::nullopt;
  return d;
}

DlrOutcome outcomeOfStat(std::string_view stat) {
  std::string s = upper(stat);
  static constexpr std::string_view kDelivered[] = {"DELIVRD", "DELIVERED", "DELIVRED", "DELIVER"};
  static constexpr std::string_view kFailed[] = {
      "UNDELIV", "UNDELIVERABLE", "UNDELIVERED", "UNDELIVR", "REJECTD", "REJECTED", "REJECT",  "EXPIRED",      "EXPIRD",
      "DELETED", "DELETD",        "FAILED",      "FAIL",     "ERROR",   "ERR",      "UNKNOWN", "UNKNOWN_ERROR"};
  static constexpr std::string_view kPending[] = {"ACCEPTD",  "ACCEPTED",  "ENROUTE", "EN_ROUTE",  "BUFFRED",
                                                  "BUFFERED", "SCHEDULED", "SENT",    "SUBMITTED", "PENDING"};
  for (auto w : kDelivered)
    if (s == w) return DlrOutcome::Delivered;
  for (auto w : kFailed)
    if (s == w) return DlrOutcome::Failed;
  for (auto w : kPending)
    if (s == w) return DlrOutcome::Pending;
  return DlrOutcome::Unknown;
}

DlrOutcome outcomeOfMessageState(std::uint8_t state) {
  switch (state) {
    case 2:
      return DlrOutcome::Delivered;
    case 3:  // expired
    case 4:  // deleted
    case 5:  // undeliverable
    case 7:  // unknown: a final state ("message is in invalid state")
    case 8:  // rejected
      return DlrOutcome::Failed;
    case 1:  // enroute
    case 6:  // accepted
      return DlrOutcome::Pending;
    default:
      return DlrOutcome::Unknown;
  }
}

std::string renderDlrText(const std::string& id, bool delivered, std::int64_t submitMs, std::int64_t doneMs,
                          const std::string& err, const std::string& text) {
  // The first 20 characters, never ending inside a UTF-8 sequence.
  std::size_t end = 0;
  for (std::size_t i = 0, chars = 0; i < text.size() && chars < 20; ++chars) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    if (i + len > text.size()) break;
    i += len;
    end = i;
  }
  std::string cut = text.substr(0, end);
  return "id:" + id + " sub:001 dlvrd:" + (delivered ? "001" : "000") + " submit date:" + formatDate(submitMs) +
         " done date:" + formatDate(doneMs) + " stat:" + (delivered ? "DELIVRD" : "UNDELIV") + " err:" + err +
         " text:" + cut;
}

}  // namespace cpmgw::smpp
