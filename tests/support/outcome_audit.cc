#include "tests/support/outcome_audit.h"

#include <simdjson.h>

#include <optional>
#include <unordered_map>

#include "tests/support/result_check.h"

namespace scorepipe::testing {
namespace {

// The transaction id a dead-letter entry is about: the "id" of the original
// message it carries.
std::optional<int64_t> DeadLetterId(simdjson::dom::parser& parser, const std::string& entry) {
  std::string_view message;
  if (parser.parse(entry)["message"].get_string().get(message) != simdjson::SUCCESS) return std::nullopt;
  const std::string original(message);  // the entry's parse is overwritten by the next one
  int64_t id = 0;
  if (parser.parse(original)["id"].get_int64().get(id) != simdjson::SUCCESS) return std::nullopt;
  return id;
}

}  // namespace

OutcomeAudit AuditOutcomes(const std::vector<std::string>& results,
                           const std::vector<std::string>& dead_letters,
                           const std::vector<Transaction>& pushed, const std::string& config_path) {
  OutcomeAudit audit;
  audit.pushed = pushed.size();
  audit.results = results.size();
  audit.dead_letters = dead_letters.size();
  std::unordered_map<int64_t, int> seen;
  seen.reserve(pushed.size());
  for (const Transaction& t : pushed) seen.emplace(t.id, 0);
  auto count = [&](std::optional<int64_t> id, const std::string& entry) {
    auto it = id ? seen.find(*id) : seen.end();
    if (it == seen.end()) {
      if (audit.unknown++ == 0) audit.first_unknown = entry;
      return;
    }
    if (++it->second > 1) ++audit.duplicates;
  };
  for (const std::string& r : results) {
    Result<ParsedResult> parsed = ParseUpstreamResult(r);
    count(parsed.ok() ? std::optional<int64_t>(parsed->transaction_id) : std::nullopt, r);
  }
  simdjson::dom::parser parser;
  for (const std::string& d : dead_letters) count(DeadLetterId(parser, d), d);
  for (const auto& [id, times] : seen) {
    if (times == 0) ++audit.lost;
  }
  audit.model = CheckAgainstModel(results, pushed, config_path);
  return audit;
}

}  // namespace scorepipe::testing
