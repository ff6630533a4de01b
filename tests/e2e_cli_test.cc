// The administration CLI against a real database, and `serve` process behaviour.
#include <signal.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "http/curl/curl_client.h"
#include "process.h"

namespace gb::testing {
namespace {

class CliTest : public ::testing::Test {
 protected:
  TempDir dir;
  std::string db = "sqlite:" + dir.path() + "/cli.db";

  CommandResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), GradebridgeBinary());
    args.push_back("--database");
    args.push_back(db);
    return RunCommand(args);
  }

  std::vector<std::string> ValidRegistration(const std::string& client_id) {
    return {"registration", "add", "--tenant", "acme", "--issuer", "https://canvas.instructure.com",
            "--client-id", client_id, "--deployment-id", "189:abc", "--deployment-id", "190:def",
            "--auth-url", "https://sso.canvaslms.com/api/lti/authorize_redirect",
            "--token-url", "https://sso.canvaslms.com/login/oauth2/token",
            "--jwks-url", "https://sso.canvaslms.com/api/lti/security/jwks", "--family", "canvas"};
  }
};

TEST_F(CliTest, TenantAddPrintsTheKeyOnceAndListNeverShowsIt) {
  auto add = Cli({"tenant", "add", "acme"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  auto pos = add.out.find("gbk_");
  ASSERT_NE(pos, std::string::npos) << add.out;
  std::string key = add.out.substr(pos, add.out.find('\n', pos) - pos);
  auto list = Cli({"tenant", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto j = nlohmann::json::parse(list.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["name"], "acme");
  EXPECT_EQ(list.out.find(key), std::string::npos);
  EXPECT_EQ(Cli({"tenant", "add", "acme"}).exit_code, 2);  // duplicate
  EXPECT_EQ(Cli({"tenant", "add", "Bad Name!"}).exit_code, 2);
}

TEST_F(CliTest, RegistrationLifecycle) {
  ASSERT_EQ(Cli({"tenant", "add", "acme"}).exit_code, 0);
  auto args = ValidRegistration("10000000000042");
  args.push_back("--json");
  auto add = Cli(args);
  ASSERT_EQ(add.exit_code, 0) << add.err;
  auto reg = nlohmann::json::parse(add.out);
  std::string id = reg["id"];
  EXPECT_EQ(reg["deployment_ids"].size(), 2u);
  EXPECT_EQ(reg["family"], "canvas");

  auto show = Cli({"registration", "show", id});
  ASSERT_EQ(show.exit_code, 0);
  EXPECT_NE(show.out.find("https://canvas.instructure.com"), std::string::npos);
  auto list = Cli({"registration", "list", "--json"});
  EXPECT_EQ(nlohmann::json::parse(list.out).size(), 1u);
  // Same issuer + client_id twice is refused; another client_id on the same issuer is fine.
  EXPECT_EQ(Cli(ValidRegistration("10000000000042")).exit_code, 2);
  EXPECT_EQ(Cli(ValidRegistration("10000000000043")).exit_code, 0);
  EXPECT_EQ(Cli({"registration", "remove", id}).exit_code, 0);
  EXPECT_EQ(Cli({"registration", "show", id}).exit_code, 2);
}

TEST_F(CliTest, BadInputGetsOneLineAndExitCodeTwo) {
  ASSERT_EQ(Cli({"tenant", "add", "acme"}).exit_code, 0);
  auto bad_url = ValidRegistration("x");
  bad_url[5] = "not a url";
  auto r = Cli(bad_url);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("error:"), std::string::npos);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  auto http_url = ValidRegistration("x");
  http_url[5] = "http://canvas.test";
  EXPECT_EQ(Cli(http_url).exit_code, 2);  // https required outside dev mode

  auto bad_family = ValidRegistration("x");
  bad_family.back() = "webct";
  EXPECT_EQ(Cli(bad_family).exit_code, 2);

  auto unknown_tenant = ValidRegistration("x");
  unknown_tenant[3] = "nobody";
  EXPECT_EQ(Cli(unknown_tenant).exit_code, 2);

  EXPECT_EQ(Cli({"registration", "add", "--tenant", "acme"}).exit_code, 2);  // missing options
  EXPECT_EQ(Cli({"frobnicate"}).exit_code, 2);
}

TEST_F(CliTest, KeyRotationKeepsTheOldKeyPublished) {
  auto first = Cli({"keys", "list", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto keys = nlohmann::json::parse(first.out);
  ASSERT_EQ(keys.size(), 1u);
  std::string old_kid = keys[0]["kid"];
  // The data key file protecting the private keys is created owner-only.
  struct stat st {};
  ASSERT_EQ(stat((dir.path() + "/cli.db.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u);

  auto rotated = Cli({"keys", "rotate", "--json"});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  auto after = nlohmann::json::parse(rotated.out);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0]["state"], "active");
  EXPECT_NE(after[0]["kid"], old_kid);
  EXPECT_EQ(after[1]["kid"], old_kid);
  EXPECT_EQ(after[1]["state"], "retired");
  EXPECT_GT(after[1]["publish_until"].get<int64_t>(), after[1]["retired_at"].get<int64_t>());

  // A server started now publishes both keys.
  ChildProcess serve({GradebridgeBinary(), "serve", "--listen", "127.0.0.1:0", "--port-file", dir.path() + "/p",
                      "--database", db, "--dev-mode", "true"},
                     dir.path() + "/serve.log");
  int port = WaitForPortFile(dir.path() + "/p");
  ASSERT_GT(port, 0) << serve.Log();
  http::CurlClientOptions copts;
  copts.allow_insecure = true;
  auto client = http::MakeCurlHttpClient(copts);
  http::Request req;
  req.method = "GET";
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/.well-known/jwks.json";
  auto resp = client->Send(req);
  ASSERT_TRUE(resp.ok());
  auto jwks = nlohmann::json::parse(resp->body);
  EXPECT_EQ(jwks["keys"].size(), 2u);
  EXPECT_EQ(serve.Stop(SIGTERM), 0) << serve.Log();
}

TEST_F(CliTest, PrivateKeysAreEncryptedAtRest) {
  ASSERT_EQ(Cli({"keys", "list"}).exit_code, 0);
  std::ifstream in(dir.path() + "/cli.db", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.find("PRIVATE KEY"), std::string::npos);
}

TEST_F(CliTest, ServeRefusesPlainHttpOutsideDevModeAndDrainsOnSigterm) {
  auto refused = RunCommand({GradebridgeBinary(), "serve", "--listen", "127.0.0.1:0", "--database", db},
                            std::chrono::seconds(20));
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("dev_mode"), std::string::npos) << refused.err;

  ChildProcess serve({GradebridgeBinary(), "serve", "--listen", "127.0.0.1:0", "--port-file", dir.path() + "/p",
                      "--database", db, "--dev-mode", "true"},
                     dir.path() + "/serve.log");
  ASSERT_GT(WaitForPortFile(dir.path() + "/p"), 0) << serve.Log();
  EXPECT_EQ(serve.Stop(SIGTERM), 0) << serve.Log();
  EXPECT_NE(serve.Log().find("server.stopped"), std::string::npos) << serve.Log();
}

TEST_F(CliTest, ConfigFileAndEnvironmentAreHonoured) {
  std::string conf = dir.path() + "/gb.toml";
  std::ofstream(conf) << "database = \"" << db << "\"\nthreads = \"lots\"\n";
  auto r = RunCommand({GradebridgeBinary(), "tenant", "list", "--config", conf});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("threads"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace gb::testing
