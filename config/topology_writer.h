// Writes a Topology back as YAML that LoadTopologyString reads to an equal
// Topology (model paths are written as they are: absolute after loading).
// `scorepipe demo` and the tests use it to derive a topology with private
// ports and endpoints from a shipped one.
//
// A free function; any thread.
#ifndef SCOREPIPE_CONFIG_TOPOLOGY_WRITER_H_
#define SCOREPIPE_CONFIG_TOPOLOGY_WRITER_H_

#include <map>
#include <string>

#include "config/topology.h"
#include "proto/status.h"

namespace scorepipe {

std::string TopologyToYaml(const Topology& topology);

// `text` (the file `loaded` was read from) with the values of some keys
// replaced in place: dotted key -> new value (a string, written plain when
// it can be and double-quoted otherwise). Everything else, comments and
// layout included, stays as the operator wrote it. Each key must be set in
// the file (`loaded.spots` says where); an error names one that is not, or
// a value that cannot be found where the loader saw it.
Result<std::string> RewriteTopologyValues(const std::string& text, const Topology& loaded,
                                          const std::map<std::string, std::string>& values);

// The YAML spelling of a queue kind: "redis-list", "redis-stream", "http-mq".
const char* QueueKindName(QueueKind kind);
// "xgboost" or "linear".
const char* ModelFormatName(ModelFormat format);
// "curve" or "none".
const char* SecurityModeName(SecurityMode mode);
// "include" | "omit", as in topology files.
const char* ModelFieldsName(ModelFields fields);

}  // namespace scorepipe

#endif  // SCOREPIPE_CONFIG_TOPOLOGY_WRITER_H_
