// The topology loader and validator on any text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/topology.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)scorepipe::LoadTopologyString(text, "fuzz.yaml", "/nonexistent");
  return 0;
}
