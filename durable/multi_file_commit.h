// MultiFileCommit: changes several files of one folder at once, so that
// across a crash of the process or of the host the change is there whole or
// not at all. A change installs files (name -> bytes, replacing any),
// removes files, and appends bytes to the folder's one append-only log
// file, in any mix.
//
// It lives in durable/, not beside its first user (the lease journal,
// queue/lease_journal.h), because nothing in it is about leases: it knows
// names and bytes only, and the names it uses are the caller's (Layout).
// Any folder of files that must change together can stand on it.
//
// How (Commit):
//   1. the bytes to append are staged as <staged>append-<unique>, each file
//      to install as <staged><name> (each written to <temp><unique>,
//      fsync()ed and renamed);
//   2. the intent file is written the same way, one line per step in this
//      order: "append <offset> <staged file>" (<offset>: the log's size
//      now), "remove <name>", "install <name>";
//   3. the folder is fsync()ed: from here on the change is committed;
//   4. the steps are carried out (Recover), the intent removed and the
//      folder fsync()ed again.
// Every step can be done again with the same effect: "remove" of a file
// that is gone and "install" of a staged file that is gone (installed
// already) do nothing, and "append" cuts the log back to <offset> before
// it writes, then removes its staged file last. So a change that a crash
// interrupted after step 3 is completed by whoever runs Recover next, and
// the log holds the appended bytes exactly once. A crash before step 3
// leaves the old files as they were, and debris (staged and temporary
// files) that RemoveDebris clears. A log shorter than <offset> at Recover
// was moved away (rotated) meanwhile: the bytes go at the end of the new
// one.
//
// A name is installed or removed, never both (installing replaces), and is
// a plain file name (no '/', no newline) that neither starts with the
// staged or the temporary prefix nor is the intent or the log: Commit
// refuses other changes before it writes anything.
//
// No lock and no state of its own: the caller holds an exclusive lock on
// the folder (durable/file_lock.h) that every writer of it takes, across
// Recover, whatever it reads to decide a change, and Commit. Recover runs
// first under each taking of the lock, before anything looks at the files.
#ifndef SCOREPIPE_DURABLE_MULTI_FILE_COMMIT_H_
#define SCOREPIPE_DURABLE_MULTI_FILE_COMMIT_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "durable/dir.h"
#include "proto/status.h"

namespace scorepipe {

class MultiFileCommit {
 public:
  // The names of the folder's own files.
  struct Layout {
    std::string intent = "intent";       // the committed change
    std::string staged_prefix = "new-";  // files of a change, before it is carried out
    std::string temp_prefix = "tmp-";    // files being written
    std::string log{};                   // the append-only file; empty: changes append nothing
  };

  struct Change {
    std::vector<std::pair<std::string, std::string>> install{};  // name -> bytes
    std::vector<std::string> remove{};
    std::string append{};  // bytes for the end of the log, as one piece
  };

  explicit MultiFileCommit(Layout layout) : layout_(std::move(layout)) {}

  const Layout& layout() const { return layout_; }

  // Commits `change` in `dir` and carries it out. An error before the
  // commit point leaves the old files; after it, the change is completed by
  // the next Recover.
  Status Commit(const Dir& dir, const Change& change) const;

  // Completes the change a crash interrupted after its commit point, if the
  // intent file is there; nothing otherwise.
  Status Recover(const Dir& dir) const;

  // Removes the staged and temporary files of changes that never committed.
  // Only right after Recover, under the same taking of the lock.
  Status RemoveDebris(const Dir& dir) const;

  // Writes one file in `dir` by atomic replace through a temporary file of
  // this layout (so RemoveDebris clears one a crash left); the new name is
  // durable once dir.Sync() returns. For a change of a single file, which
  // needs no intent.
  Status WriteFile(const Dir& dir, const std::string& name, std::string_view bytes) const;

 private:
  Status CheckNames(const Change& change) const;
  Status CompleteAppend(const Dir& dir, std::string_view args) const;

  Layout layout_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_DURABLE_MULTI_FILE_COMMIT_H_
