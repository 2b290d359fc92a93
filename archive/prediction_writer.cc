#include "archive/prediction_writer.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "archive/schema.h"

namespace scorepipe {
namespace {

constexpr int64_t kMicrosPerDay = 86'400'000'000;
constexpr const char* kColumns =
    "result_key, scored_at, transaction_id, transaction_at, timestamp_text, customer_id, vendor_id, amount, "
    "status, features, score, is_fraud, model_name, model_version, shadow_version, shadow_score";

int64_t DayOf(int64_t unix_us) {
  return unix_us >= 0 ? unix_us / kMicrosPerDay : -((-unix_us + kMicrosPerDay - 1) / kMicrosPerDay);
}

// "YYYY-MM-DD HH:MM:SS.ffffff+00", a timestamptz PostgreSQL reads exactly.
void AppendTimestamp(int64_t unix_us, std::string* out) {
  using namespace std::chrono;
  const sys_time<microseconds> at{microseconds{unix_us}};
  const sys_days day = floor<days>(at);
  const year_month_day date{day};
  const hh_mm_ss<microseconds> time{at - day};
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u %02d:%02d:%02d.%06lld+00", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()), static_cast<long long>(time.subseconds().count()));
  *out += text;
}

// The shortest text that reads back to the same value; PostgreSQL's names
// for the values that are not numbers.
template <typename Float>
void AppendFloat(Float value, std::string* out) {
  if (std::isnan(value)) {
    *out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    *out += value > 0 ? "Infinity" : "-Infinity";
    return;
  }
  char text[32];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  out->append(text, ec == std::errc() ? end : text);
}

void Field(std::string_view text, std::string* row) {
  AppendCopyText(text, row);
  *row += '\t';
}

}  // namespace

std::string PredictionCopyText(const std::vector<ArchiveRecord>& rows) {
  std::string out;
  out.reserve(rows.size() * 256);
  for (const ArchiveRecord& r : rows) {
    Field(r.result_key, &out);
    AppendTimestamp(r.scored_at_us, &out);
    out += '\t';
    Field(r.transaction_id, &out);
    if (r.transaction_at_us) {
      AppendTimestamp(*r.transaction_at_us, &out);
    } else {
      out += kCopyNull;
    }
    out += '\t';
    Field(r.timestamp_text, &out);
    AppendFloat(r.customer_id, &out);
    out += '\t';
    AppendFloat(r.vendor_id, &out);
    out += '\t';
    AppendFloat(r.amount, &out);
    out += '\t';
    Field(r.status, &out);
    out += '{';
    for (size_t i = 0; i < r.features.size(); ++i) {
      if (i > 0) out += ',';
      AppendFloat(r.features[i], &out);
    }
    out += "}\t";
    AppendFloat(r.score, &out);
    out += r.is_fraud ? "\tt\t" : "\tf\t";
    Field(r.model_name, &out);
    Field(r.model_version, &out);
    if (r.shadow_version.empty()) {
      out += kCopyNull;
    } else {
      AppendCopyText(r.shadow_version, &out);
    }
    out += '\t';
    if (r.shadow_score) {
      AppendFloat(*r.shadow_score, &out);
    } else {
      out += kCopyNull;
    }
    out += '\n';
  }
  return out;
}

Result<uint64_t> PredictionWriter::Write(PgConnection& db, const std::vector<ArchiveRecord>& rows) {
  if (rows.empty()) return uint64_t{0};
  std::set<int64_t> days;
  for (const ArchiveRecord& r : rows) days.insert(DayOf(r.scored_at_us));
  for (int64_t day : days) {
    if (days_made_.count(day) > 0) continue;
    if (Status s = EnsureDayPartitions(db, day, day); !s.ok()) return s;
    days_made_.insert(day);
  }
  const std::string data = PredictionCopyText(rows);
  return InTransaction(db, [&]() -> Result<uint64_t> {
    if (Status s =
            db.Exec("CREATE TEMP TABLE IF NOT EXISTS archive_staging (LIKE predictions INCLUDING DEFAULTS) "
                    "ON COMMIT DELETE ROWS");
        !s.ok()) {
      return s;
    }
    Result<uint64_t> copied =
        db.CopyIn(std::string("COPY archive_staging (") + kColumns + ") FROM STDIN", data);
    if (!copied.ok()) return copied.status();
    Result<PgRows> inserted = db.Run(std::string("INSERT INTO predictions (") + kColumns + ") SELECT " +
                                     kColumns + " FROM archive_staging ON CONFLICT DO NOTHING");
    if (!inserted.ok()) return inserted.status();
    return inserted->affected;
  });
}

}  // namespace scorepipe
