// Files built into the `scorepipe` program so that `scorepipe install` needs
// nothing but the programs themselves: the systemd units and drop-in of
// systemd/ and the README. Generated at build time (cli/embed_files.cmake).
//
// Read-only data; any thread.
#ifndef SCOREPIPE_CLI_EMBEDDED_FILES_H_
#define SCOREPIPE_CLI_EMBEDDED_FILES_H_

#include <string_view>
#include <vector>

namespace scorepipe {

struct EmbeddedFile {
  std::string_view path;  // relative to the repository: "systemd/scorepipe-sink.service"
  std::string_view contents;
};

extern const std::vector<EmbeddedFile> kEmbeddedFiles;

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_EMBEDDED_FILES_H_
