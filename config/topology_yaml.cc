// Reading the topology from YAML (see topology.h): walks the document
// against the schema (topology_schema.h), reads the values into a Topology,
// runs the checks (topology_checks.h) and places every problem at its line.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "config/topology.h"
#include "config/topology_checks.h"
#include "config/topology_schema.h"
#include "config/yaml_util.h"

namespace scorepipe {

namespace fs = std::filesystem;

namespace topology_internal {
namespace {

std::string Join(const std::string& section, std::string_view name) {
  return section.empty() ? std::string(name) : section + "." + std::string(name);
}

std::string Parent(const std::string& key) {
  const size_t dot = key.rfind('.');
  return dot == std::string::npos ? "" : key.substr(0, dot);
}

// The keys VisitFields() names and the sections ("queue", "queue.redis")
// that hold them.
class Schema {
 public:
  Schema() {
    const Topology defaults;
    VisitFields(defaults, *this);
  }

  bool IsLeaf(const std::string& key) const { return leaves_.contains(key); }
  bool IsSection(const std::string& key) const { return children_.contains(key) && !key.empty(); }
  // "kind, redis, input, output, dead_letter, shadow" for "queue".
  std::string Children(const std::string& section) const {
    std::string out;
    for (const auto& child : children_.at(section)) out += (out.empty() ? "" : ", ") + child;
    return out;
  }

  // The visitor interface, used by the constructor only.
  void Int(std::string_view key, int, IntRule) { Add(std::string(key)); }
  void Double(std::string_view key, double, DoubleRule) { Add(std::string(key)); }
  void String(std::string_view key, const std::string&, const StringRule&, Presence = Presence::kOptional) {
    Add(std::string(key));
  }
  template <typename E>
  void Enum(std::string_view key, E, std::span<const EnumName<E>>, Presence = Presence::kOptional) {
    Add(std::string(key));
  }

 private:
  void Add(const std::string& key) {
    leaves_.insert(key);
    // Registers `key` with its section and each section with its parent.
    for (std::string child = key; !child.empty(); child = Parent(child)) {
      auto& siblings = children_[Parent(child)];
      const std::string name = child.substr(child.rfind('.') + 1);
      bool known = false;
      for (const auto& sibling : siblings) known = known || sibling == name;
      if (!known) siblings.push_back(name);
    }
  }

  std::set<std::string> leaves_;
  std::map<std::string, std::vector<std::string>> children_;  // by section; "" is the top
};
// How a node looks in a message: "'abc'", "a list", "a map".
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "nothing";
  }
}

// "'abc' is not an integer", or "the value is missing" for `port:`.
std::string IsNot(const YAML::Node& node, std::string_view expected) {
  if (node.IsNull()) return "the value is missing";
  if (node.IsScalar() && node.Tag() == "!") {  // "!" marks a quoted scalar
    return "'" + node.Scalar() + "' is quoted, so a string, not " + std::string(expected);
  }
  return Describe(node) + " is not " + std::string(expected);
}

// Takes a stream's events and keeps only where the last document started.
class DocumentStart final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { mark_ = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
  }
  void OnMapEnd() override {}

  const YAML::Mark& mark() const { return mark_; }

 private:
  YAML::Mark mark_;
};

// Where yaml-cpp's parser stops moving through `text`, if it does. A token
// that cannot start a value (a ',' where a document's value belongs) is read
// as an empty document and left unconsumed, so yaml-cpp 0.7's LoadAll()
// appends empty documents forever until memory runs out (upstream issue
// 1040). Walked with events only, which build no nodes; each document must
// start past the previous one. Throws YAML::Exception on syntax errors.
std::optional<YAML::Mark> FindStall(const std::string& text) {
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  DocumentStart start;
  std::optional<int> previous_pos;
  while (parser.HandleNextDocument(start)) {
    if (previous_pos == start.mark().pos) return start.mark();
    previous_pos = start.mark().pos;
  }
  return std::nullopt;
}

// A key found in the file.
struct Entry {
  YAML::Node value;
  YAML::Mark mark;  // of the value, or of the key when the value is empty
};

// One load: walks the document against the schema, reads the values into a
// Topology and places every problem at its line.
class Loader {
 public:
  explicit Loader(std::string name, fs::path base_dir)
      : name_(std::move(name)), base_dir_(std::move(base_dir)) {}

  Result<Topology> Load(const std::string& text) {
    std::vector<YAML::Node> documents;
    try {
      if (auto stall = FindStall(text)) {
        const size_t pos = static_cast<size_t>(stall->pos);
        const char c = pos < text.size() ? text[pos] : '\0';
        const std::string token = c > ' ' && c < 0x7f ? "'" + std::string(1, c) + "'" : "character";
        return YamlErrorAt(name_, *stall, "syntax error: unexpected " + token);
      }
      documents = YAML::LoadAll(text);
    } catch (const YAML::Exception& e) {
      return YamlErrorAt(name_, e.mark, "syntax error: " + e.msg);
    }
    const std::string sections = "a map of " + schema_.Children("");
    if (documents.empty() || documents[0].IsNull()) {
      return YamlErrorAt(name_, YAML::Mark(), "the file is empty; allowed: " + sections);
    }
    if (documents.size() > 1) {
      return YamlErrorAt(name_, documents[1], "a second YAML document; allowed: one document");
    }
    const YAML::Node& root = documents[0];
    if (!root.IsMap()) {
      return YamlErrorAt(name_, root, Describe(root) + " is not a map; allowed: " + sections);
    }
    if (Status status = Walk(root, ""); !status.ok()) return status;

    Topology topology;
    topology.source = name_;
    for (const auto& [key, entry] : entries_) {
      if (!entry.mark.is_null() && entry.mark.line >= 0) {
        topology.spots[key] = Topology::TextSpot{entry.mark.line + 1, entry.mark.column};
      }
    }
    VisitFields(topology, *this);
    if (problem_) return At(*problem_);

    topology.model.path = Resolve(topology.model.path);
    topology.queue.redis.password_file = Resolve(topology.queue.redis.password_file);
    topology.model.features = Resolve(topology.model.features);
    topology.queue.journal_dir = Resolve(topology.queue.journal_dir);
    topology.security.secret_key = Resolve(topology.security.secret_key);
    topology.security.server_key = Resolve(topology.security.server_key);
    topology.security.authorized_keys = Resolve(topology.security.authorized_keys);
    topology.model.registry = Resolve(topology.model.registry);
    topology.gateway.tls_cert_file = Resolve(topology.gateway.tls_cert_file);
    topology.gateway.tls_key_file = Resolve(topology.gateway.tls_key_file);
    topology.gateway.tokens_file = Resolve(topology.gateway.tokens_file);
    topology.gateway.admin_tokens_file = Resolve(topology.gateway.admin_tokens_file);
    if (!entries_.contains("model.version") && topology.model.registry.empty()) {
      topology.model.version = fs::path(topology.model.path).stem().string();
    }
    if (topology.model.name.empty() && topology.model.registry.empty()) {
      topology.model.name = fs::path(topology.model.path).parent_path().filename().string();
    }
    const InFile in_file = [this](const std::string& key) { return entries_.contains(key); };
    if (auto problem = FindProblem(topology, in_file)) return At(*problem);
    return topology;
  }

  // The visitor interface: reads each key the file sets into its field.
  void Int(std::string_view key, int& value, IntRule rule) {
    const Entry* entry = Find(key);
    if (!entry) return;
    const YAML::Node& node = entry->value;
    long long number = 0;
    const std::string& text = node.Scalar();
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (!IsPlainScalar(node) || text.empty() || end != text.data() + text.size() ||
        (ec != std::errc() && ec != std::errc::result_out_of_range)) {
      Fail(key, IsNot(node, "an integer"), Allowed(rule));
    } else if (ec != std::errc() || number < std::numeric_limits<int>::min() ||
               number > std::numeric_limits<int>::max()) {
      Fail(key, Describe(node) + " is out of range", Allowed(rule));
    } else {
      value = static_cast<int>(number);
    }
  }
  void Double(std::string_view key, double& value, DoubleRule rule) {
    const Entry* entry = Find(key);
    if (!entry) return;
    const YAML::Node& node = entry->value;
    double number = 0;
    const std::string& text = node.Scalar();
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (!IsPlainScalar(node) || text.empty() || end != text.data() + text.size() || ec != std::errc()) {
      Fail(key, IsNot(node, "a number"), Allowed(rule));
    } else {
      value = number;
    }
  }
  void String(std::string_view key, std::string& value, const StringRule& rule,
              Presence presence = Presence::kOptional) {
    const Entry* entry = Find(key);
    if (!entry) {
      const bool required =
          presence == Presence::kRequired ||
          (presence == Presence::kRequiredWithoutRegistry && !entries_.contains("model.registry"));
      if (required) Fail(key, "required key is missing", rule.allowed);
      return;
    }
    if (!entry->value.IsScalar()) {
      Fail(key, IsNot(entry->value, "a string"), rule.allowed);
    } else {
      value = entry->value.Scalar();
    }
  }
  template <typename E>
  void Enum(std::string_view key, E& value, std::span<const EnumName<E>> names,
            Presence presence = Presence::kOptional) {
    const Entry* entry = Find(key);
    if (!entry) {
      if (presence == Presence::kRequired) Fail(key, "required key is missing", Allowed(names));
      return;
    }
    if (!entry->value.IsScalar()) {
      Fail(key, IsNot(entry->value, "a name"), Allowed(names));
      return;
    }
    for (const auto& name : names) {
      if (entry->value.Scalar() == name.name) {
        value = name.value;
        return;
      }
    }
    Fail(key, Describe(entry->value) + " is not supported", Allowed(names));
  }

 private:
  // Checks that `map` (the section `section`) holds only known keys, each
  // once, and that subsections are maps; records every key it finds.
  Status Walk(const YAML::Node& map, const std::string& section) {
    std::set<std::string> seen;
    for (const auto& item : map) {
      const YAML::Node& key_node = item.first;
      const YAML::Node& value = item.second;
      const std::string name = key_node.IsScalar() ? key_node.Scalar() : Describe(key_node);
      const std::string key = Join(section, name);
      if (!key_node.IsScalar() || (!schema_.IsLeaf(key) && !schema_.IsSection(key))) {
        return At(key_node.Mark(), Problem{key, "unknown key", schema_.Children(section)});
      }
      if (!seen.insert(name).second) {
        return At(key_node.Mark(), Problem{key, "duplicate key", "each key once"});
      }
      key_marks_[key] = key_node.Mark();
      if (schema_.IsLeaf(key)) {
        entries_[key] = Entry{value, value.IsNull() ? key_node.Mark() : value.Mark()};
        continue;
      }
      if (value.IsNull()) continue;  // an empty section: all defaults
      if (!value.IsMap()) {
        return At(value.Mark(),
                  Problem{key, Describe(value) + " is not a map", "a map of " + schema_.Children(key)});
      }
      if (Status status = Walk(value, key); !status.ok()) return status;
    }
    return Status::Ok();
  }

  const Entry* Find(std::string_view key) const {
    if (problem_) return nullptr;  // report the first problem only
    auto it = entries_.find(std::string(key));
    return it == entries_.end() ? nullptr : &it->second;
  }

  static bool IsPlainScalar(const YAML::Node& node) {
    return node.IsScalar() && node.Tag() != "!";  // "!" marks a quoted scalar
  }

  void Fail(std::string_view key, std::string what, std::string allowed) {
    if (!problem_) problem_ = Problem{std::string(key), std::move(what), std::move(allowed)};
  }

  // A problem found after reading, placed at its key's value, else at the
  // nearest enclosing section the file has, else at the top of the file.
  Status At(const Problem& problem) const {
    if (auto it = entries_.find(problem.key); it != entries_.end()) return At(it->second.mark, problem);
    for (std::string section = Parent(problem.key); !section.empty(); section = Parent(section)) {
      if (auto it = key_marks_.find(section); it != key_marks_.end()) return At(it->second, problem);
    }
    return At(YAML::Mark(), problem);
  }
  Status At(const YAML::Mark& mark, const Problem& problem) const {
    return YamlErrorAt(name_, mark, Format(problem));
  }

  // Absolute and normalised; relative paths start at the file's directory.
  std::string Resolve(const std::string& path) const {
    if (path.empty()) return path;
    const fs::path full = base_dir_ / fs::path(path);  // an absolute `path` replaces the base
    std::error_code error;
    const fs::path canonical = fs::weakly_canonical(full, error);
    return (error ? full.lexically_normal() : canonical).string();
  }

  const std::string name_;
  const fs::path base_dir_;
  const Schema schema_;
  std::map<std::string, Entry> entries_;         // leaf keys the file sets
  std::map<std::string, YAML::Mark> key_marks_;  // every key the file sets, at its key
  std::optional<Problem> problem_;               // the first problem while reading values
};

fs::path AbsoluteDir(const std::string& dir) {
  std::error_code error;
  fs::path absolute = dir.empty() ? fs::current_path(error) : fs::absolute(dir, error);
  return error ? fs::path(dir) : absolute;
}

}  // namespace
}  // namespace topology_internal

Result<Topology> LoadTopologyString(const std::string& text, const std::string& name,
                                    const std::string& base_dir) {
  if (text.size() > kMaxTopologyBytes) {
    const std::string limit = std::to_string(kMaxTopologyBytes) + " bytes";
    return Status::Error(name + ": the file is larger than " + limit + "; allowed: at most " + limit);
  }
  try {
    return topology_internal::Loader(name, topology_internal::AbsoluteDir(base_dir)).Load(text);
  } catch (const YAML::Exception& e) {  // not expected past parsing; kept at the boundary
    return YamlErrorAt(name, e.mark, e.msg);
  }
}

Result<Topology> LoadTopologyFile(const std::string& path) {
  const auto fail = [&path](int error) {
    return Status::Error("cannot read topology '" + path + "': " + std::generic_category().message(error));
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return fail(errno);
  std::string text;
  char buffer[4096];
  size_t n = 0;
  // One byte past the limit is enough to refuse the file (/dev/zero never ends).
  while (text.size() <= kMaxTopologyBytes && (n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
    text.append(buffer, n);
  }
  if (std::ferror(file.get())) return fail(errno);
  return LoadTopologyString(text, path, fs::path(path).parent_path().string());
}

}  // namespace scorepipe
