#include "app/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace gb::app {
namespace {

TEST(ConfigTest, DefaultsAreSafe) {
  auto c = LoadConfig(std::nullopt, {}, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->listen, "127.0.0.1:8787");
  EXPECT_EQ(c->database, "sqlite:gradebridge.db");
  EXPECT_FALSE(c->dev_mode);
  EXPECT_EQ(*c->SqlitePath(), "gradebridge.db");
  EXPECT_EQ(c->EffectiveDataKeyFile(), "gradebridge.db.key");
}

TEST(ConfigTest, FileThenEnvironmentThenFlags) {
  std::string path = ::testing::TempDir() + "/gb_config_test.toml";
  std::ofstream(path) << "listen = \"0.0.0.0:9000\"\nthreads = 4\ndev_mode = true\nlog_format = \"json\"\n";
  auto c = LoadConfig(path, {{"threads", "6"}, {"listen", "127.0.0.1:9100"}}, {{"listen", "127.0.0.1:9200"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen, "127.0.0.1:9200");  // flag wins
  EXPECT_EQ(c->threads, 6);                // env beats file
  EXPECT_TRUE(c->dev_mode);                // file beats default
  EXPECT_EQ(c->log_format, "json");
  std::remove(path.c_str());
}

TEST(ConfigTest, BadValuesNameTheKeyAndSource) {
  auto c = LoadConfig(std::nullopt, {{"threads", "many"}}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().reason(), "config.invalid");
  EXPECT_NE(c.status().message().find("GRADEBRIDGE_threads"), std::string::npos);
  auto f = LoadConfig(std::nullopt, {}, {{"log_format", "xml"}});
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("--log_format"), std::string::npos);
  auto u = LoadConfig(std::nullopt, {}, {{"no_such_key", "1"}});
  EXPECT_FALSE(u.ok());
  std::string path = ::testing::TempDir() + "/gb_bad.toml";
  std::ofstream(path) << "listen = \n";
  EXPECT_EQ(LoadConfig(path, {}, {}).status().reason(), "config.unreadable");
  std::remove(path.c_str());
}

TEST(ConfigTest, PostgresIsReportedNotSilentlyIgnored) {
  auto c = LoadConfig(std::nullopt, {}, {{"database", "postgres://db/gb"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->SqlitePath().status().reason(), "config.postgres_unavailable");
}

}  // namespace
}  // namespace gb::app
