// LTI names the simulator emits, copied exactly from ../shared/spec/lti-digest.md §13. (sim/ may
// not depend on lti/, so it keeps its own copy; a test checks them against the digest's values.)
#pragma once

namespace gb::sim::lti {

inline constexpr char kClaimMessageType[] = "https://purl.imsglobal.org/spec/lti/claim/message_type";
inline constexpr char kClaimVersion[] = "https://purl.imsglobal.org/spec/lti/claim/version";
inline constexpr char kClaimDeploymentId[] = "https://purl.imsglobal.org/spec/lti/claim/deployment_id";
inline constexpr char kClaimTargetLinkUri[] = "https://purl.imsglobal.org/spec/lti/claim/target_link_uri";
inline constexpr char kClaimResourceLink[] = "https://purl.imsglobal.org/spec/lti/claim/resource_link";
inline constexpr char kClaimRoles[] = "https://purl.imsglobal.org/spec/lti/claim/roles";
inline constexpr char kClaimContext[] = "https://purl.imsglobal.org/spec/lti/claim/context";
inline constexpr char kClaimToolPlatform[] = "https://purl.imsglobal.org/spec/lti/claim/tool_platform";
inline constexpr char kClaimLaunchPresentation[] = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation";
inline constexpr char kClaimLis[] = "https://purl.imsglobal.org/spec/lti/claim/lis";
inline constexpr char kClaimCustom[] = "https://purl.imsglobal.org/spec/lti/claim/custom";
inline constexpr char kClaimLti1p1[] = "https://purl.imsglobal.org/spec/lti/claim/lti1p1";
inline constexpr char kClaimLti11LegacyUserId[] = "https://purl.imsglobal.org/spec/lti/claim/lti11_legacy_user_id";
inline constexpr char kClaimAgsEndpoint[] = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint";
inline constexpr char kClaimNrps[] = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice";
inline constexpr char kClaimDlSettings[] = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings";
// Moodle's own extension claim (user_username, lms).
inline constexpr char kClaimMoodleExt[] = "https://purl.imsglobal.org/spec/lti/claim/ext";
// Canvas vendor claims.
inline constexpr char kClaimCanvasPlacement[] = "https://www.instructure.com/placement";

inline constexpr char kMsgResourceLink[] = "LtiResourceLinkRequest";
inline constexpr char kMsgDeepLinkingRequest[] = "LtiDeepLinkingRequest";
inline constexpr char kLtiVersion[] = "1.3.0";

inline constexpr char kScopeLineItem[] = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem";
inline constexpr char kScopeLineItemReadOnly[] = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly";
inline constexpr char kScopeResultReadOnly[] = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly";
inline constexpr char kScopeScore[] = "https://purl.imsglobal.org/spec/lti-ags/scope/score";
inline constexpr char kScopeNrps[] = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly";

inline constexpr char kRoleMembership[] = "http://purl.imsglobal.org/vocab/lis/v2/membership#";
inline constexpr char kRoleInstitution[] = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#";
inline constexpr char kRoleSystem[] = "http://purl.imsglobal.org/vocab/lis/v2/system/person#";
inline constexpr char kRoleTeachingAssistant[] =
    "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant";
inline constexpr char kContextTypeCourseOffering[] =
    "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering";

}  // namespace gb::sim::lti
