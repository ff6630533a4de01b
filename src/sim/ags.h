// Assignment and Grade Services 2.0 as the simulator serves them (Platform::HandleAgs, ags.cc),
// under the URLs part 1 puts into launches:
//   <base>/sim/api/lti/courses/1001/line_items                 container: GET (filters, paging), POST
//   <base>/sim/api/lti/courses/1001/line_items/<id>            line item: GET, PUT, DELETE
//   <base>/sim/api/lti/courses/1001/line_items/<id>/scores     POST a score
//   <base>/sim/api/lti/courses/1001/line_items/<id>/results    GET results (user_id, limit)
//   <base>/sim/api/lti/courses/1001/line_items/<id>/results/<n>  one result (Canvas's resultUrl)
// Moodle-profile URLs carry ?type_id=<deployment>; /scores and /results go before the query.
// The rules of each profile (status codes, bodies, paging, media types, score semantics) are in
// docs/simulator.md.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sim/platform.h"

namespace gb::sim {

inline constexpr char kMediaLineItem[] = "application/vnd.ims.lis.v2.lineitem+json";
inline constexpr char kMediaLineItemContainer[] = "application/vnd.ims.lis.v2.lineitemcontainer+json";
inline constexpr char kMediaScore[] = "application/vnd.ims.lis.v1.score+json";
inline constexpr char kMediaResultContainer[] = "application/vnd.ims.lis.v2.resultcontainer+json";

// A Link header value in a profile's style, from (rel, url) pairs in the order given:
//   canvas:  <u>; rel="current",<u>; rel="next"        (comma without a space)
//   moodle:  <u>; rel=“first”, <u>; rel=“next”        (Unicode curly quotes)
//   others:  <u>; rel="next", <u>; rel="last"
std::string FormatLinkHeader(Profile profile, const std::vector<std::pair<std::string, std::string>>& links);

}  // namespace gb::sim
