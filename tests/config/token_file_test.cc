// Bearer-token files as the gateway and `scorepipe check` read them.
#include "config/token_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace scorepipe {
namespace {

using ::testing::HasSubstr;

class TokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/scorepipe-tokens-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& text) {
    const std::string path = dir_ + "/tokens";
    std::ofstream(path) << text;
    return path;
  }

  std::string dir_;
};

TEST_F(TokenFileTest, OneTokenALineTrimmedWithoutCommentsOrBlankLines) {
  Result<std::vector<std::string>> tokens =
      LoadTokenFile(Write("# callers\n  abc \n\n\tdef\r\n   # old: xyz\n"));
  ASSERT_TRUE(tokens.ok()) << tokens.status().message();
  EXPECT_EQ(tokens.value(), (std::vector<std::string>{"abc", "def"}));
}

TEST_F(TokenFileTest, AFileWithoutATokenIsAnErrorNamingIt) {
  const std::string path = Write("# nothing yet\n\n");
  Result<std::vector<std::string>> tokens = LoadTokenFile(path);
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.status().message(), "the token file " + path + " holds no token");
}

TEST_F(TokenFileTest, AFileThatCannotBeReadIsAnErrorNamingIt) {
  Result<std::vector<std::string>> tokens = LoadTokenFile(dir_ + "/missing");
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.status().message(),
            "cannot read the token file " + dir_ + "/missing: No such file or directory");
}

TEST_F(TokenFileTest, AdminTokensAreNamedOrNumberedAndBadLinesAreNamed) {
  const std::string path = dir_ + "/admin";
  std::ofstream(path) << "# admins\n\n  s3cret  \nana  t0ken\n";
  auto tokens = LoadAdminTokenFile(path);
  ASSERT_TRUE(tokens.ok()) << tokens.status().message();
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[0].name, "admin-1");
  EXPECT_EQ((*tokens)[0].token, "s3cret");
  EXPECT_EQ((*tokens)[1].name, "ana");
  EXPECT_EQ((*tokens)[1].token, "t0ken");

  std::ofstream(path) << "a b c\n";
  EXPECT_THAT(LoadAdminTokenFile(path).status().message(), HasSubstr(path + ":1:"));
  std::ofstream(path) << "ok tok\nb/ad tok\n";
  EXPECT_THAT(LoadAdminTokenFile(path).status().message(), HasSubstr(":2: the name 'b/ad'"));
  std::ofstream(path) << "# nothing\n";
  EXPECT_THAT(LoadAdminTokenFile(path).status().message(), HasSubstr("holds no token"));
  EXPECT_THAT(LoadAdminTokenFile(path + ".missing").status().message(), HasSubstr("cannot read"));
}

}  // namespace
}  // namespace scorepipe
