// The feature spec loader (features.yaml) on any text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "scoring/feature_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto spec = scorepipe::LoadFeatureSpecString(text, "fuzz.yaml"); spec.ok()) {
    // What loads, writes back and loads again.
    (void)scorepipe::LoadFeatureSpecString(scorepipe::FeatureSpecToYaml(spec.value()), "again.yaml");
  }
  return 0;
}
