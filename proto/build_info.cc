#include "proto/build_info.h"

#include "build_info_values.h"  // generated at every build by proto/build_info.cmake

namespace scorepipe {

const BuildInfo& ThisBuild() {
  static const BuildInfo info{SCOREPIPE_VERSION, SCOREPIPE_COMMIT, SCOREPIPE_BUILD_TYPE};
  return info;
}

std::string VersionLine(std::string_view program) {
  const BuildInfo& b = ThisBuild();
  return std::string(program) + " " + std::string(b.version) + " (commit " + std::string(b.commit) + ", " +
         std::string(b.build_type) + ")";
}

}  // namespace scorepipe
