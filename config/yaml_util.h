// Reading YAML files people write: "file:line:column: what" errors located
// by yaml-cpp marks, mappings that refuse unknown and repeated keys, and
// parsing that names the file. The feature spec, the linear model and the
// model registry's files use them.
//
// Stateless functions; any thread.
#ifndef SCOREPIPE_CONFIG_YAML_UTIL_H_
#define SCOREPIPE_CONFIG_YAML_UTIL_H_

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <map>
#include <string>

#include "proto/status.h"

namespace scorepipe {

// "name:line:column: what" (1-based) at `mark`, or "name: what" when the mark
// is unknown.
Status YamlErrorAt(const std::string& name, const YAML::Mark& mark, const std::string& what);
inline Status YamlErrorAt(const std::string& name, const YAML::Node& node, const std::string& what) {
  return YamlErrorAt(name, node.Mark(), what);
}

// A YAML mapping's values by key.
using YamlFields = std::map<std::string, YAML::Node>;

// Reads mapping `node` into *out. A key not in `allowed` or given twice is an
// error at that key, prefixed by `path` ("features[0]") when non-empty.
Status ReadYamlMapping(const std::string& name, const YAML::Node& node, const std::string& path,
                       std::initializer_list<const char*> allowed, YamlFields* out);

// Parses YAML text; a syntax error or an empty document is an error located
// in `name`.
Result<YAML::Node> ParseYaml(const std::string& text, const std::string& name);

}  // namespace scorepipe

#endif  // SCOREPIPE_CONFIG_YAML_UTIL_H_
