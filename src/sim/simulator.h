// Simulator: the platform simulator as a running HTTP server (`gradebridge sim`, `demo`, tests).
// A Platform (platform.h) served by server::HttpServer on its own threads.
//
//   gb::sim::Simulator sim({.listen = "127.0.0.1:0"});
//   GB_RETURN_IF_ERROR(sim.Start());          // keys, bind, serve in the background
//   auto tool = sim.platform().RegisterTool({...});
//   ... sim.base_url() + "/sim/launch?client_id=...&user=learner1&resource_link=rl-quiz-1"
//   sim.Stop();
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "http/client.h"
#include "sim/platform.h"

namespace gb::sim {

struct SimOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free one
  std::string issuer;                  // empty: http://<bound host:port>
  int threads = 1;
  int learners = 3;  // see PlatformOptions::learners
  bool access_log = false;
  // Optional injections (tests): clock and randomness, and fixed keys (PKCS#8 PEM) to skip the
  // RSA key generation at start.
  const Clock* clock = nullptr;
  Random* random = nullptr;
  std::string signing_key_pem;
  std::string second_key_pem;
  // Fetches tools' JWKS for the token endpoint; must outlive the simulator. Null: a libcurl
  // client that allows http:// and loopback (tools under development run on 127.0.0.1).
  http::HttpClient* http_client = nullptr;
};

class Simulator {
 public:
  explicit Simulator(SimOptions options);
  ~Simulator();  // Stop()s
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Generates the keys, binds and serves in background threads. Once only.
  Status Start();
  // Graceful stop; waits for the server threads. Idempotent.
  void Stop();

  uint16_t port() const;
  std::string base_url() const;  // "http://127.0.0.1:PORT" (a wildcard listen host maps to loopback)
  std::string issuer() const;

  // The simulated LMS (valid after a successful Start()).
  Platform& platform();
  const Platform& platform() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gb::sim
