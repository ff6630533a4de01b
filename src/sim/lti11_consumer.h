// Lti11Consumers: the simulator as an LTI 1.1 tool consumer — signed 1.1 launches to a tool and
// the Basic Outcomes service (lis_outcome_service_url) those launches name.
//
// Endpoints (registered by Platform::AddRoutes):
//   POST /sim/api/lti11/consumers   register a 1.1 tool {"consumer_key","secret","launch_url",
//                                   "profile": "canvas"|"moodle"|"generic"} -> 201
//   GET  /sim/api/lti11/consumers   the registered 1.1 tools (secrets never shown)
//   GET  /sim/lti11/launch?consumer_key=K[&user_id=learner1][&resource_link_id=rl-quiz-1]
//        [&mutation=bad_signature|stale_timestamp|wrong_version|wrong_message_type|no_resource_link]
//                                   an auto-submitting form POST of the signed launch (a browser)
//   GET  /sim/api/lti11/launch?…    the same launch as JSON {"action", "fields": [[name, value]…]}
//                                   for scripted clients (tests post the fields themselves, e.g.
//                                   twice to test nonce replay)
//   POST /sim/lti11/outcomes        the Basic Outcomes service
//
// Launches carry user_id = the user's LTI 1.1 id (hex SHA-1 of the sim user id, as the lti1p1
// migration claim of 1.3 launches says), roles, context, resource link, custom_ and (Canvas)
// ext_outcome_* parameters, lis_outcome_service_url and a lis_result_sourcedid the simulator signs
// ("<consumer key>:<resource link>:<user>:<hmac>", like Canvas's signed sourcedids).
//
// The outcomes service is as strict as the platforms (platforms.md B6, D), with its own OAuth 1.0a
// code (not the tool's, so a shared mistake cannot pass): Content-Type application/xml (Canvas:
// 415 otherwise), oauth_body_hash required and checked over the raw body, HMAC-SHA1 signature over
// the URL called, timestamp within ±90 minutes (Canvas's window), nonce single use, DOCTYPEs
// refused, sourcedid signature checked, score a decimal in [0.0, 1.0]. Refusals: Canvas answers
// 401 for signature/timestamp/nonce/body-hash problems and 422 with ext_canvas_error_code for
// failures; Moodle and generic answer every error with HTTP 200 and imsx_codeMajor failure.
// replaceResult writes the shared gradebook (the resource link's line item, scaled to its points),
// readResult answers the current fraction ("" when none), deleteResult clears the grade.
// Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "base/strings.h"
#include "http/message.h"
#include "server/router.h"
#include "sim/seed.h"

namespace gb::sim {

class Gradebook;

struct Lti11Tool {
  std::string consumer_key;
  std::string secret;
  std::string launch_url;
  std::string profile = "generic";  // canvas | moodle | generic
};

struct Lti11LaunchSpec {
  std::string consumer_key;
  std::string user_id = "learner1";
  std::string resource_link_id = "rl-quiz-1";
  std::string mutation;  // "" or one of the names above
};

class Lti11Consumers {
 public:
  // `base_url` is read at each use (it is known only after bind).
  Lti11Consumers(const Seed& seed, Gradebook& gradebook, const Clock& clock, Random& random,
                 std::function<std::string()> base_url);

  void AddRoutes(server::Router& router);

  Status Register(Lti11Tool tool);
  // The signed form of one launch: where to post it and the fields.
  Result<std::pair<std::string, FormFields>> BuildLaunch(const Lti11LaunchSpec& spec);
  // The LTI 1.1 user_id the simulator uses for a sim user (also the lti1p1 claim's user_id).
  static std::string LegacyUserId(std::string_view sim_user_id);
  std::string OutcomesUrl() const;
  // The /sim/ home page's section: each 1.1 tool with launch links per user (and the mutations).
  std::string HomeSection() const;

  http::Response HandleRegister(const http::Request& request);
  http::Response HandleList(const http::Request& request) const;
  http::Response HandleLaunchPage(const http::Request& request);
  http::Response HandleLaunchJson(const http::Request& request);
  http::Response HandleOutcomes(const http::Request& request);

 private:
  std::string SignSourcedId(const std::string& key, const std::string& link, const std::string& user) const;
  std::string RandomHex(size_t bytes);

  const Seed& seed_;
  Gradebook& gradebook_;
  const Clock& clock_;
  std::function<std::string()> base_url_;
  std::string sourcedid_key_;
  mutable std::mutex mu_;
  Random& random_;  // under mu_
  std::map<std::string, Lti11Tool> tools_;         // by consumer key
  std::set<std::string> nonces_;                   // "<key> <nonce>" seen by the outcomes service
};

// RFC 5849 §3.4.1 signature base string and HMAC-SHA1 signature, written for the simulator
// independently of lti11/ (exposed for tests).
std::string SimOAuthSignature(std::string_view method, std::string_view url, const FormFields& params,
                              std::string_view secret);

}  // namespace gb::sim
