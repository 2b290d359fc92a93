// Model administration as values (gateway/model_admin.h): a real registry in
// a temporary folder with two versions of "fraud" (the demo XGBoost model
// and a linear one), driven through every endpoint and error status the
// gateway answers, with the registry's history as the witness of what was
// done and by whom.
#include "gateway/model_admin.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string DemoDir() { return std::string(SCOREPIPE_SOURCE_DIR) + "/models/demo"; }

std::vector<std::string_view> Parts(const std::string& path) {
  std::vector<std::string_view> parts;
  std::string_view rest(path);
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    if (slash != 0) parts.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return parts;
}

simdjson::dom::element Json(const std::string& text) {
  static simdjson::dom::parser parser;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(text).get(doc), simdjson::SUCCESS) << text;
  return doc;
}

class ModelAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    root_ = (dir_.path() / "registry").string();
    const std::string linear = (dir_.path() / "linear.yaml").string();
    std::ofstream(linear) << "format: linear\nweights: [0, 0, 0, 0.002]\nbias: -1.5\n";
    ModelRegistry registry(root_);
    RegisterRequest v1;
    v1.name = "fraud";
    v1.version = "v1";
    v1.model_path = DemoDir() + "/model.json";
    v1.features_path = DemoDir() + "/features.yaml";
    v1.metrics = {{"auc", 0.93}};
    ASSERT_TRUE(registry.Register(v1).ok());
    RegisterRequest v2 = v1;
    v2.version = "v2";
    v2.model_path = linear;
    v2.metrics = {{"auc", 0.81}};
    v2.note = "linear";
    ASSERT_TRUE(registry.Register(v2).ok());
    ASSERT_TRUE(registry.Promote(PromoteRequest{"fraud", "v1", false, std::nullopt, "", "ana"}).ok());
  }

  AdminAnswer Call(const std::string& method, const std::string& target, const std::string& body = "",
                   const std::string& by = "ops") {
    const size_t question = target.find('?');
    const std::string path = target.substr(0, question);
    const std::string query = question == std::string::npos ? "" : target.substr(question + 1);
    const std::vector<std::string_view> parts = Parts(path);
    EXPECT_TRUE(IsAdminPath(parts)) << target;
    return ModelAdmin(root_).Handle(method, parts, query, body, by);
  }

  std::string Live() {
    auto live = ModelRegistry(root_).LiveVersion("fraud");
    EXPECT_TRUE(live.ok());
    return live.ok() && *live ? **live : "";
  }

  testing::TempDir dir_{"model-admin"};
  std::string root_;
};

TEST_F(ModelAdminTest, ListsModelsAndVersionsWithTheirMetaAndWhichIsLive) {
  AdminAnswer list = Call("GET", "/v1/models");
  ASSERT_EQ(list.status, 200) << list.body;
  auto models = Json(list.body)["models"].get_array();
  ASSERT_EQ(models.size(), 1u);
  EXPECT_EQ(std::string_view(models.at(0)["name"]), "fraud");
  EXPECT_EQ(std::string_view(models.at(0)["live"]), "v1");
  EXPECT_TRUE(models.at(0)["shadow"].is_null());

  AdminAnswer one = Call("GET", "/v1/models/fraud");
  ASSERT_EQ(one.status, 200) << one.body;
  auto doc = Json(one.body);
  EXPECT_EQ(std::string_view(doc["live"]), "v1");
  auto versions = doc["versions"].get_array();
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(std::string_view(versions.at(0)["version"]), "v1");
  EXPECT_EQ(std::string_view(versions.at(0)["format"]), "xgboost");
  EXPECT_TRUE(bool(versions.at(0)["live"]));
  EXPECT_DOUBLE_EQ(double(versions.at(0)["metrics"]["auc"]), 0.93);
  EXPECT_EQ(std::string_view(versions.at(1)["format"]), "linear");
  EXPECT_FALSE(bool(versions.at(1)["live"]));
  EXPECT_EQ(std::string_view(versions.at(1)["note"]), "linear");
}

TEST_F(ModelAdminTest, PromoteAndRollbackAreRecordedWithTheTokensName) {
  AdminAnswer promoted =
      Call("POST", "/v1/models/fraud/promote", R"({"version":"v2","note":"try it"})", "ana");
  ASSERT_EQ(promoted.status, 200) << promoted.body;
  EXPECT_EQ(Live(), "v2");
  auto record = Json(promoted.body)["record"];
  EXPECT_EQ(std::string_view(record["action"]), "promote");
  EXPECT_EQ(std::string_view(record["version"]), "v2");
  EXPECT_EQ(std::string_view(record["from"]), "v1");
  EXPECT_EQ(std::string_view(record["by"]), "ana");
  EXPECT_EQ(std::string_view(record["note"]), "try it");

  AdminAnswer again = Call("POST", "/v1/models/fraud/promote", R"({"version":"v2"})");
  EXPECT_EQ(again.status, 409);
  EXPECT_THAT(again.body, HasSubstr("already live"));

  AdminAnswer back = Call("POST", "/v1/models/fraud/rollback", "", "bo");
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(Live(), "v1");
  EXPECT_EQ(std::string_view(Json(back.body)["record"]["by"]), "bo");

  AdminAnswer history = Call("GET", "/v1/models/fraud/history");
  ASSERT_EQ(history.status, 200);
  auto records = Json(history.body)["history"].get_array();
  ASSERT_EQ(records.size(), 5u);  // register, register, promote, promote, rollback
  EXPECT_EQ(std::string_view(records.at(4)["action"]), "rollback");
  EXPECT_EQ(std::string_view(records.at(4)["from"]), "v2");

  AdminAnswer nothing = Call("POST", "/v1/models/fraud/rollback", R"({"note":"again"})");
  EXPECT_EQ(nothing.status, 409);
  EXPECT_THAT(nothing.body, HasSubstr("nothing to roll back to"));
}

TEST_F(ModelAdminTest, TheSeedsPromoteAndDemoteForms) {
  AdminAnswer promoted =
      Call("POST", "/model/promote", R"({"model_name":"fraud","model_version_id":"v2"})", "seed");
  ASSERT_EQ(promoted.status, 200) << promoted.body;
  EXPECT_EQ(Live(), "v2");
  AdminAnswer demoted = Call("GET", "/model/demote?model_name=fraud");
  ASSERT_EQ(demoted.status, 200) << demoted.body;
  EXPECT_EQ(Live(), "v1");
  EXPECT_EQ(Call("GET", "/model/demote").status, 400);
  EXPECT_EQ(Call("POST", "/model/promote", R"({"model_name":"fraud"})").status, 400);
  EXPECT_EQ(Call("GET", "/model/promote").status, 405);
  EXPECT_EQ(Call("GET", "/model/nothing").status, 404);
  // %-encoded query values decode.
  ASSERT_EQ(Call("POST", "/model/promote", R"({"model_name":"fraud","model_version_id":"v2"})").status, 200);
  EXPECT_EQ(Call("POST", "/model/demote?x=1&model_name=fr%61ud").status, 200);
  EXPECT_EQ(Live(), "v1");
}

TEST_F(ModelAdminTest, TheQualityCheckRefusesUnlessForcedAndTheForceIsRecorded) {
  AdminAnswer refused = Call("POST", "/v1/models/fraud/promote", R"({"version":"v2","min_auc":0.9})");
  EXPECT_EQ(refused.status, 409);
  EXPECT_THAT(refused.body, HasSubstr("below the minimum"));
  EXPECT_EQ(Live(), "v1");
  AdminAnswer forced =
      Call("POST", "/v1/models/fraud/promote", R"({"version":"v2","min_auc":0.9,"force":true})");
  ASSERT_EQ(forced.status, 200) << forced.body;
  auto doc = Json(forced.body);
  EXPECT_TRUE(bool(doc["record"]["forced"]));
  EXPECT_EQ(doc["overridden"].get_array().size(), 1u);
  EXPECT_EQ(Live(), "v2");
}

TEST_F(ModelAdminTest, AVersionWhoseFileIsDamagedIsRefusedWith409AndNothingChanges) {
  ModelRegistry registry(root_);
  std::ofstream(fs::path(registry.VersionDir("fraud", "v2")) / "model.yaml") << "format: linear\nweights: [";
  AdminAnswer refused = Call("POST", "/v1/models/fraud/promote", R"({"version":"v2","force":true})");
  EXPECT_EQ(refused.status, 409);
  EXPECT_THAT(refused.body, HasSubstr("does not load"));
  EXPECT_EQ(Live(), "v1");
}

TEST_F(ModelAdminTest, EveryErrorStatusWithItsReason) {
  struct Case {
    std::string method, target, body;
    int status;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"GET", "/v1/models/nope", "", 404, "no model 'nope'"},
      {"GET", "/v1/models/nope/history", "", 404, "no model 'nope'"},
      {"GET", "/v1/models/..x", "", 400, "starts with a dot"},
      {"GET", "/v1/models/a%2Fb", "", 400, "character outside"},
      {"POST", "/v1/models/fraud/promote", R"({"version":"v9"})", 404, "no version 'v9'"},
      {"POST", "/v1/models/fraud/promote", R"({"version":".."})", 400, "starts with a dot"},
      {"POST", "/v1/models/fraud/promote", "", 400, "empty"},
      {"POST", "/v1/models/fraud/promote", "{", 400, "not valid JSON"},
      {"POST", "/v1/models/fraud/promote", "[]", 400, "JSON object"},
      {"POST", "/v1/models/fraud/promote", R"({"version":2})", 400, "'version' must be a string"},
      {"POST", "/v1/models/fraud/promote", R"({"version":"v2","force":"yes"})", 400, "'force'"},
      {"POST", "/v1/models/fraud/promote", R"({"version":"v2","min_auc":7})", 400, "'min_auc'"},
      {"POST", "/v1/models/fraud/promote", R"({"version":"v2","evil":1})", 400, "unknown field 'evil'"},
      {"POST", "/v1/models/fraud/promote", R"({"note":"x"})", 400, "and optionally force, min_auc, note"},
      {"GET", "/v1/models/fraud/promote", "", 405, "use POST"},
      {"POST", "/v1/models", "", 405, "use GET"},
      {"DELETE", "/v1/models/fraud", "", 405, "use GET"},
      {"GET", "/v1/models/fraud/nothing", "", 404, "no such endpoint"},
      {"POST", "/v1/models/nope/rollback", "", 404, "no model 'nope'"},
  };
  for (const Case& c : cases) {
    AdminAnswer answer = Call(c.method, c.target, c.body);
    EXPECT_EQ(answer.status, c.status) << c.method << " " << c.target << " " << c.body << ": " << answer.body;
    EXPECT_THAT(answer.body, HasSubstr(c.says)) << c.method << " " << c.target;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(answer.body).get(doc), simdjson::SUCCESS) << answer.body;
    EXPECT_TRUE(doc["error"].is_string()) << answer.body;
  }
  EXPECT_EQ(Live(), "v1");
}

// Generated bodies: whatever arrives, the answer is JSON with a 2xx or 4xx
// status, and the live version changes only on a 200.
TEST_F(ModelAdminTest, GeneratedAndHostileBodiesNeverBreakTheRegistry) {
  std::mt19937 rng(20);
  const std::vector<std::string> pieces = {"{",    "}",     "[",           "]",         "\"version\"",
                                           ":",    ",",     "\"v1\"",      "\"v2\"",    "true",
                                           "null", "1e999", "\"\\u0000\"", "\"force\"", "\"note\"",
                                           "\xff", " ",     "\"min_auc\"", "0.5",       "\"..\""};
  for (int i = 0; i < 400; ++i) {
    std::string body;
    const int n = std::uniform_int_distribution<int>(0, 12)(rng);
    for (int k = 0; k < n; ++k)
      body += pieces[std::uniform_int_distribution<size_t>(0, pieces.size() - 1)(rng)];
    const std::string before = Live();
    AdminAnswer answer = Call("POST", "/v1/models/fraud/promote", body);
    EXPECT_TRUE(answer.status == 200 || (answer.status >= 400 && answer.status < 500))
        << answer.status << " for " << body;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    EXPECT_EQ(parser.parse(answer.body).get(doc), simdjson::SUCCESS) << answer.body;
    if (answer.status != 200) {
      EXPECT_EQ(Live(), before) << body;
    }
  }
}

}  // namespace
}  // namespace scorepipe
