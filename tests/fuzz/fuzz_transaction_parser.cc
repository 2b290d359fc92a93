// The upstream JSON transaction parser and validator on any bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "proto/upstream_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static scorepipe::TransactionParser parser(65536);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  scorepipe::Result<scorepipe::Transaction> parsed = parser.Parse(text);
  if (!parsed.ok()) {
    (void)scorepipe::ClassifyReject(parsed.status().message());
    // A dead-letter entry must be writable for whatever came in.
    (void)scorepipe::DeadLetterJson(parsed.status().message(), "bridge", text, 0);
  }
  return 0;
}
