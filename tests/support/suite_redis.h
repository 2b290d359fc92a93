// SuiteRedis: one private redis-server shared by the tests of a suite, in a
// temporary directory of its own. Start() from SetUpTestSuite, Stop() from
// TearDownTestSuite; a failed start leaves server() null and says why in
// error(), for the tests to report.
//
// Owned by the suite's fixture (a static member); the test thread uses it.
#ifndef SCOREPIPE_TESTS_SUPPORT_SUITE_REDIS_H_
#define SCOREPIPE_TESTS_SUPPORT_SUITE_REDIS_H_

#include <memory>
#include <string>

#include "local_cluster/local_redis.h"

namespace scorepipe::testing {

class SuiteRedis {
 public:
  void Start();
  void Stop();

  LocalRedis* server() const { return server_.get(); }
  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::unique_ptr<LocalRedis> server_;
  std::string error_;
};

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_SUPPORT_SUITE_REDIS_H_
