// What this build of scorepipe is: its version (the CMake project's), the
// git commit it was built from and its build type. Every program prints it
// for --version, and every node exports it as scorepipe_build_info (runtime/process_metrics.h).
//
// Constant data; any thread.
#ifndef SCOREPIPE_PROTO_BUILD_INFO_H_
#define SCOREPIPE_PROTO_BUILD_INFO_H_

#include <string>
#include <string_view>

namespace scorepipe {

struct BuildInfo {
  std::string_view version;  // "0.1.0"
  std::string_view commit;  // short hash, "+dirty" when built with uncommitted changes; "unknown" outside git
  std::string_view build_type;  // "Release", "Debug", ...
};

const BuildInfo& ThisBuild();

// `program` version line, as --version prints it:
// "scorepipe-worker 0.1.0 (commit 1a2b3c4, Release)".
std::string VersionLine(std::string_view program);

}  // namespace scorepipe

#endif  // SCOREPIPE_PROTO_BUILD_INFO_H_
