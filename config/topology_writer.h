// Writes a Topology back as YAML that LoadTopologyString reads to an equal
// Topology (model paths are written as they are: absolute after loading).
// `scorepipe demo` and the tests use it to derive a topology with private
// ports and endpoints from a shipped one.
//
// A free function; any thread.
#ifndef SCOREPIPE_CONFIG_TOPOLOGY_WRITER_H_
#define SCOREPIPE_CONFIG_TOPOLOGY_WRITER_H_

#include <string>

#include "config/topology.h"

namespace scorepipe {

std::string TopologyToYaml(const Topology& topology);

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
