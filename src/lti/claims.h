// Claim names, message types, scopes and media types, copied exactly from the specifications
// (see ../shared/spec/lti-digest.md §13). Never retype a URI elsewhere: use these.
#pragma once

namespace gb::lti {

inline constexpr char kClaimMessageType[] = "https://purl.imsglobal.org/spec/lti/claim/message_type";
inline constexpr char kClaimVersion[] = "https://purl.imsglobal.org/spec/lti/claim/version";
inline constexpr char kClaimDeploymentId[] = "https://purl.imsglobal.org/spec/lti/claim/deployment_id";
inline constexpr char kClaimTargetLinkUri[] = "https://purl.imsglobal.org/spec/lti/claim/target_link_uri";
inline constexpr char kClaimResourceLink[] = "https://purl.imsglobal.org/spec/lti/claim/resource_link";
inline constexpr char kClaimRoles[] = "https://purl.imsglobal.org/spec/lti/claim/roles";
inline constexpr char kClaimContext[] = "https://purl.imsglobal.org/spec/lti/claim/context";
inline constexpr char kClaimToolPlatform[] = "https://purl.imsglobal.org/spec/lti/claim/tool_platform";
inline constexpr char kClaimRoleScopeMentor[] = "https://purl.imsglobal.org/spec/lti/claim/role_scope_mentor";
inline constexpr char kClaimLaunchPresentation[] = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation";
inline constexpr char kClaimLis[] = "https://purl.imsglobal.org/spec/lti/claim/lis";
inline constexpr char kClaimCustom[] = "https://purl.imsglobal.org/spec/lti/claim/custom";
inline constexpr char kClaimForUser[] = "https://purl.imsglobal.org/spec/lti/claim/for_user";
inline constexpr char kClaimLti1p1[] = "https://purl.imsglobal.org/spec/lti/claim/lti1p1";
inline constexpr char kClaimAgsEndpoint[] = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint";
inline constexpr char kClaimNrps[] = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice";
inline constexpr char kClaimBasicOutcome[] = "https://purl.imsglobal.org/spec/lti-bo/claim/basicoutcome";
inline constexpr char kClaimDlSettings[] = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings";

inline constexpr char kMsgResourceLink[] = "LtiResourceLinkRequest";
inline constexpr char kMsgDeepLinkingRequest[] = "LtiDeepLinkingRequest";
inline constexpr char kMsgSubmissionReview[] = "LtiSubmissionReviewRequest";
inline constexpr char kLtiVersion[] = "1.3.0";

inline constexpr char kScopeLineItem[] = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem";
inline constexpr char kScopeLineItemReadOnly[] = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly";
inline constexpr char kScopeResultReadOnly[] = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly";
inline constexpr char kScopeScore[] = "https://purl.imsglobal.org/spec/lti-ags/scope/score";
inline constexpr char kScopeNrps[] = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly";

}  // namespace gb::lti
