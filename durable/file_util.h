// Reading and writing a whole file in one call, for files that need no
// crash safety (inputs read once, reports and exported models a person
// writes again). A file that must survive a crash whole is written with
// ReplaceFile or CreateNewFile (durable/dir.h).
//
// Stateless functions; any thread.
#ifndef SCOREPIPE_DURABLE_FILE_UTIL_H_
#define SCOREPIPE_DURABLE_FILE_UTIL_H_

#include <string>

#include "proto/status.h"

namespace scorepipe {

// The file's bytes, or "path: cannot open: <reason>" ("path is a directory,
// not a file" for a folder). Reads what a stream
// gives (a pipe, /dev/stdin), not only regular files.
Result<std::string> ReadWholeFile(const std::string& path);

// Replaces the file's contents with `text` in place (truncate, write; no
// fsync), or "path: cannot write: <reason>".
Status WriteWholeFile(const std::string& path, const std::string& text);

}  // namespace scorepipe

#endif  // SCOREPIPE_DURABLE_FILE_UTIL_H_
