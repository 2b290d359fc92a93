// OutcomeAudit: the delivery guarantee checked on what a cluster wrote. Every
// transaction pushed must end as exactly one result or exactly one
// dead-letter entry, and every result must be the model's own prediction.
//
// A free function over values; any thread.
#ifndef SCOREPIPE_TESTS_SUPPORT_OUTCOME_AUDIT_H_
#define SCOREPIPE_TESTS_SUPPORT_OUTCOME_AUDIT_H_

#include <cstddef>
#include <string>
#include <vector>

#include "proto/messages.h"
#include "proto/status.h"

namespace scorepipe::testing {

struct OutcomeAudit {
  size_t pushed = 0;
  size_t results = 0;       // entries of the output list
  size_t dead_letters = 0;  // entries of the dead-letter list
  size_t duplicates = 0;    // entries beyond the first for one transaction id
  size_t lost = 0;          // transactions pushed with no entry at all
  size_t unknown = 0;       // entries naming no pushed transaction (or no id at all)
  std::string first_unknown;
  // CheckAgainstModel of the results: schema and score of each.
  Status model = Status::Ok();

  bool Holds() const {
    return results + dead_letters == pushed && duplicates == 0 && lost == 0 && unknown == 0 && model.ok();
  }
};

// Audits `results` (upstream result JSON) and `dead_letters` (dead-letter
// entries, whose "message" holds the original transaction) against the
// transactions `pushed`, scoring them with the model `config_path` names.
OutcomeAudit AuditOutcomes(const std::vector<std::string>& results,
                           const std::vector<std::string>& dead_letters,
                           const std::vector<Transaction>& pushed, const std::string& config_path);

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_SUPPORT_OUTCOME_AUDIT_H_
