// Model administration over HTTP: the model registry's list, history,
// promote and rollback (scoring/model_registry.h) as the gateway answers
// them, behind an admin token (docs/gateway.md "Model administration").
//
//   GET  /v1/models                      the registry's models, each with its live and shadow version
//   GET  /v1/models/{name}               its versions (meta.yaml: format, created, by, metrics, note)
//   GET  /v1/models/{name}/history       history.jsonl, oldest first
//   POST /v1/models/{name}/promote       {"version": "v2", "force"?: bool, "min_auc"?: number, "note"?: str}
//   POST /v1/models/{name}/rollback      {"note"?: str} (or no body)
//   POST /model/promote                  {"model_name": ..., "model_version_id": ...}: the ML-system
//                                        seed's form of promote
//   GET|POST /model/demote?model_name=   the seed's demote: a rollback
//
// Every answer is JSON. A promote or rollback goes through the registry
// exactly as `scorepipe model` does (the version must load with its
// features; the quality checks unless forced; an flock on the model's
// folder), and is recorded with `by`, the admin token's name. Workers
// follow the live version within model.watch_ms; each result names the
// version that scored it.
//
// Statuses: 400 a body or name that is not what the endpoint takes; 404 an
// unknown model, version or endpoint; 405 another method; 409 a promote or
// rollback the registry refuses (a failed quality check, a version that does
// not load, already live, nothing to roll back to), with its reason; 500 a
// registry that cannot be read or written.
//
// A ModelAdmin is a value over one registry root; its calls block on the
// disk (and load models to check them), so the gateway runs them on a
// thread of their own (gateway/job_thread.h).
#ifndef SCOREPIPE_GATEWAY_MODEL_ADMIN_H_
#define SCOREPIPE_GATEWAY_MODEL_ADMIN_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/status.h"
#include "scoring/model_registry.h"

namespace scorepipe {

struct AdminAnswer {
  int status = 200;
  std::string body;  // JSON
};

// True for the paths ModelAdmin answers: /v1/models[/...] and /model/...
bool IsAdminPath(const std::vector<std::string_view>& parts);

class ModelAdmin {
 public:
  explicit ModelAdmin(std::string registry_root) : registry_(std::move(registry_root)) {}

  // Answers one request: `parts` the path's segments (IsAdminPath), `query`
  // the target's query without '?', `by` the admin token's name.
  AdminAnswer Handle(std::string_view method, const std::vector<std::string_view>& parts,
                     std::string_view query, std::string_view body, const std::string& by) const;

 private:
  AdminAnswer List() const;
  AdminAnswer Describe(const std::string& name) const;
  AdminAnswer History(const std::string& name) const;
  AdminAnswer Promote(const std::string& name, const std::string& version, bool force,
                      std::optional<double> min_auc, const std::string& note, const std::string& by) const;
  AdminAnswer Rollback(const std::string& name, const std::string& note, const std::string& by) const;
  // 400 for a name the registry never takes, 404 for a model it does not
  // hold, 500 when it cannot tell; ok otherwise.
  std::optional<AdminAnswer> CheckModel(const std::string& name) const;

  ModelRegistry registry_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_GATEWAY_MODEL_ADMIN_H_
