// VerifiedIdToken and Launch: trust encoded in types.
//
// A VerifiedIdToken can be made only by LaunchValidator (private constructor), after every step of
// the id_token checklist passed. A Launch — the normalised record the tool receives — is built
// only from a VerifiedIdToken, so no code path can hand the tool claims nobody verified.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "lti/registration.h"
#include "lti/roles.h"

namespace gb::lti {

class LaunchValidator;

class VerifiedIdToken {
 public:
  const nlohmann::json& claims() const { return *claims_; }
  const Registration& registration() const { return registration_; }
  const std::string& kid() const { return kid_; }

 private:
  friend class LaunchValidator;
  VerifiedIdToken(std::shared_ptr<const nlohmann::json> claims, Registration registration, std::string kid)
      : claims_(std::move(claims)), registration_(std::move(registration)), kid_(std::move(kid)) {}
  std::shared_ptr<const nlohmann::json> claims_;
  Registration registration_;
  std::string kid_;
};

struct LaunchUser {
  std::string id;  // sub
  std::string name, given_name, family_name, email, picture, locale;
};

struct LaunchContext {
  std::string id, label, title;
  std::vector<std::string> types;
};

struct LaunchResourceLink {
  std::string id, title, description;
};

struct AgsEndpoint {
  std::vector<std::string> scopes;
  std::string lineitems;  // container URL, may be empty
  std::string lineitem;   // this link's line item, may be empty
};

struct NrpsEndpoint {
  std::string context_memberships_url;
  std::vector<std::string> service_versions;
};

// LTI 1.1 Basic Outcomes target of a 1.1 launch (lis_outcome_service_url, lis_result_sourcedid).
struct BasicOutcome {
  std::string service_url;
  std::string sourcedid;
};

struct Launch {
  std::string id;
  TenantId tenant_id;
  RegistrationId registration_id;
  std::string issuer, client_id, deployment_id;
  std::string message_type;
  std::string target_link_uri;
  LaunchUser user;
  std::vector<std::string> roles;        // raw values as sent
  std::vector<std::string> role_names;   // normalised context roles ("Instructor", ...)
  bool is_instructor = false, is_learner = false, is_test_user = false;
  std::optional<LaunchContext> context;
  std::optional<LaunchResourceLink> resource_link;
  std::optional<AgsEndpoint> ags;
  std::optional<NrpsEndpoint> nrps;
  std::map<std::string, std::string> custom;
  std::string return_url;
  std::string platform_guid, platform_name, product_family_code;
  nlohmann::json deep_linking_settings;  // null unless LtiDeepLinkingRequest
  std::string for_user_id;               // LtiSubmissionReviewRequest's reviewed user
  // "1.3" for id_token launches, "1.1" for OAuth 1.0a launches (lti11/launch.h).
  std::string lti_version = "1.3";
  // The user's LTI 1.1 user_id: the 1.1 launch's user_id, or the verified lti1p1 migration
  // claim's (so a platform upgraded from 1.1 to 1.3 keeps its users). Empty when unknown.
  std::string lti11_user_id;
  std::optional<BasicOutcome> basic_outcome;  // 1.1 launches only
  int64_t created_at = 0;

  // The only constructor from platform data.
  static Launch FromVerified(const VerifiedIdToken& token, std::string id, int64_t now);

  nlohmann::json ToJson() const;
  static Result<Launch> FromJson(const nlohmann::json& json);
};

}  // namespace gb::lti
