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

TEST_F(CliTest, RegistrationServiceHostsAndPolicyOnAddUpdateShowAndList) {
  ASSERT_EQ(Cli({"tenant", "add", "acme"}).exit_code, 0);
  auto plain = ValidRegistration("1");
  plain.push_back("--json");
  auto defaults = Cli(plain);
  ASSERT_EQ(defaults.exit_code, 0) << defaults.err;
  auto d = nlohmann::json::parse(defaults.out);
  EXPECT_EQ(d["service_hosts"], nlohmann::json::array());
  EXPECT_EQ(d["final_grades_only"], false);
  EXPECT_EQ(d["send_comments"], false);
  EXPECT_EQ(d["allow_extra_credit"], false);

  // Canvas Cloud: the AGS host is the institution's, so it is added as a service host.
  auto args = ValidRegistration("2");
  for (const char* a : {"--service-host", "school.instructure.com", "--service-host", "api.school.edu:8443",
                        "--final-grades-only", "--send-comments", "--json"}) {
    args.push_back(a);
  }
  auto add = Cli(args);
  ASSERT_EQ(add.exit_code, 0) << add.err;
  auto reg = nlohmann::json::parse(add.out);
  const std::string id = reg["id"];
  EXPECT_EQ(reg["service_hosts"], nlohmann::json({"school.instructure.com", "api.school.edu:8443"}));
  EXPECT_EQ(reg["allowed_hosts"], nlohmann::json({"canvas.instructure.com", "sso.canvaslms.com",
                                                  "school.instructure.com", "api.school.edu:8443"}));
  EXPECT_EQ(reg["final_grades_only"], true);
  EXPECT_EQ(reg["send_comments"], true);
  EXPECT_EQ(reg["allow_extra_credit"], false);

  // Stored, not just echoed: a fresh process shows the same.
  auto show = Cli({"registration", "show", id, "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(nlohmann::json::parse(show.out), reg);
  auto human = Cli({"registration", "show", id});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("service_host:    school.instructure.com"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("final grades only:  yes"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("allow extra credit: no"), std::string::npos) << human.out;

  // update changes only what is given.
  auto update = Cli({"registration", "update", id, "--no-final-grades-only", "--allow-extra-credit",
                     "--add-service-host", "x.example", "--remove-service-host", "api.school.edu:8443",
                     "--target-url", "https://tool.example.com/lti/start", "--token-audience", "aud-1", "--json"});
  ASSERT_EQ(update.exit_code, 0) << update.err;
  auto u = nlohmann::json::parse(update.out);
  EXPECT_EQ(u["service_hosts"], nlohmann::json({"school.instructure.com", "x.example"}));
  EXPECT_EQ(u["final_grades_only"], false);
  EXPECT_EQ(u["send_comments"], true);
  EXPECT_EQ(u["allow_extra_credit"], true);
  EXPECT_EQ(u["target_url"], "https://tool.example.com/lti/start");
  EXPECT_EQ(u["token_audience"], "aud-1");
  EXPECT_EQ(u["client_id"], reg["client_id"]);
  EXPECT_EQ(u["deployment_ids"], reg["deployment_ids"]);
  EXPECT_EQ(u["created_at"], reg["created_at"]);

  // --service-host on update replaces the list; "" clears target and audience.
  auto replace = Cli({"registration", "update", id, "--service-host", "only.example", "--target-url", "",
                      "--token-audience", "", "--no-send-comments", "--json"});
  ASSERT_EQ(replace.exit_code, 0) << replace.err;
  auto r = nlohmann::json::parse(replace.out);
  EXPECT_EQ(r["service_hosts"], nlohmann::json({"only.example"}));
  EXPECT_EQ(r["target_url"], "");
  EXPECT_EQ(r["token_audience"], "https://sso.canvaslms.com/login/oauth2/token");  // the family rule again
  EXPECT_EQ(r["send_comments"], false);
  EXPECT_EQ(r["allow_extra_credit"], true);

  // Another institution's deployment under the same client_id (Blackboard, Canvas installs).
  const nlohmann::json deployments_before = r["deployment_ids"];
  auto added = Cli({"registration", "update", id, "--add-deployment-id", "inst-2", "--add-deployment-id", "inst-2",
                    "--json"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  nlohmann::json with_two = deployments_before;
  with_two.push_back("inst-2");
  EXPECT_EQ(nlohmann::json::parse(added.out)["deployment_ids"], with_two);
  auto removed = Cli({"registration", "update", id, "--remove-deployment-id", "inst-2", "--json"});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(nlohmann::json::parse(removed.out)["deployment_ids"], deployments_before);

  auto list = Cli({"registration", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto all = nlohmann::json::parse(list.out);
  ASSERT_EQ(all.size(), 2u);
  for (const auto& one : all) {
    if (one["id"] == id) {
      EXPECT_EQ(one, nlohmann::json::parse(Cli({"registration", "show", id, "--json"}).out));
    }
  }
}

TEST_F(CliTest, BadServiceHostsAndUpdatesExitTwoAndChangeNothing) {
  ASSERT_EQ(Cli({"tenant", "add", "acme"}).exit_code, 0);
  for (const char* bad : {"https://school.instructure.com", "school.instructure.com/api", "School.Instructure.com",
                          "school.edu:99999", "school..edu"}) {
    auto args = ValidRegistration(std::string("c-") + bad);
    args.push_back("--service-host");
    args.push_back(bad);
    auto r = Cli(args);
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_NE(r.err.find("[registration.bad_service_host]"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  auto none = Cli({"registration", "list", "--json"});
  EXPECT_EQ(nlohmann::json::parse(none.out).size(), 0u);

  auto args = ValidRegistration("ok");
  args.push_back("--json");
  auto add = Cli(args);
  ASSERT_EQ(add.exit_code, 0) << add.err;
  const std::string id = nlohmann::json::parse(add.out)["id"];
  const std::string before = Cli({"registration", "show", id, "--json"}).out;
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const Case& c : {Case{{"--service-host", "https://x.example/"}, "registration.bad_service_host"},
                        Case{{"--add-service-host", "x.example:0"}, "registration.bad_service_host"},
                        Case{{"--remove-service-host", "not.there"}, "registration.unknown_service_host"},
                        Case{{"--remove-deployment-id", "not-there"}, "registration.unknown_deployment"},
                        Case{{"--remove-deployment-id", "189:abc", "--remove-deployment-id", "190:def"},
                             "registration.no_deployment"},
                        Case{{"--add-deployment-id", ""}, "registration.bad_deployment"},
                        Case{{"--target-url", "http://tool.example"}, "registration.insecure_target-url"},
                        Case{{}, "registration.nothing_to_update"},
                        Case{{"--send-comments", "--no-send-comments"}, "excludes"},
                        Case{{"--service-host", "a.example", "--add-service-host", "b.example"}, "excludes"}}) {
    std::vector<std::string> cmd = {"registration", "update", id};
    cmd.insert(cmd.end(), c.args.begin(), c.args.end());
    auto r = Cli(cmd);
    EXPECT_EQ(r.exit_code, 2) << c.says;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
  }
  EXPECT_EQ(Cli({"registration", "show", id, "--json"}).out, before);
  auto unknown = Cli({"registration", "update", "r_nope", "--send-comments"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("registration.unknown"), std::string::npos) << unknown.err;
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
