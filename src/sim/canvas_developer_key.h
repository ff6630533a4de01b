// The simulator's Canvas "LTI 1.3 developer key from JSON" (platforms.md A9): an administrator
// pastes the tool's JSON configuration, or its URL, plus the redirect URIs, and Canvas creates a
// developer key. Checked as strictly as Canvas checks it, so a configuration the simulator takes
// is one Canvas takes.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "sim/platform.h"

namespace gb::sim {

// Builds a Canvas-profile ToolSpec from a developer-key JSON. kInvalidArgument
// "sim.bad_developer_key" naming the first problem: a missing title, description,
// oidc_initiation_url or target_link_uri; neither public_jwk_url nor public_jwk (or a public_jwk
// without alg/use); a scope Canvas does not allow; a custom field that is not a string; an
// extension for another platform, an unknown privacy_level, or a placement with another
// message_type. Deep-linking placements give the spec its deep_link_url. `redirect_uris` must
// not be empty (Canvas keeps them outside the JSON, in the key's form).
Result<ToolSpec> ToolSpecFromCanvasDeveloperKey(const nlohmann::json& config,
                                                const std::vector<std::string>& redirect_uris);

}  // namespace gb::sim
