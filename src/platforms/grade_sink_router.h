// GradeSinkRouter: the one GradeSink the dispatcher holds, choosing the protocol adapter by what
// the score targets — a Basic Outcomes cell (result_sourcedid set: an LTI 1.1 launch's score) goes
// to the LTI 1.1 sink, everything else to AGS. The dispatcher stays unaware of protocols; rate
// keys come from the chosen sink, so 1.1 and AGS traffic are paced separately.
// Thread-safe when the sinks are.
#pragma once

#include "passback/grade_sink.h"

namespace gb::platforms {

class GradeSinkRouter final : public passback::GradeSink {
 public:
  GradeSinkRouter(passback::GradeSink& ags, passback::GradeSink& basic_outcomes)
      : ags_(ags), basic_outcomes_(basic_outcomes) {}

  std::string RateKey(const lti::Registration& registration, const passback::ScoreRecord& score) const override {
    return For(score).RateKey(registration, score);
  }
  passback::DeliveryResult Deliver(const lti::Registration& registration, const passback::ScoreRecord& score,
                                   const passback::DeliveryOptions& options) override {
    return For(score).Deliver(registration, score, options);
  }

 private:
  passback::GradeSink& For(const passback::ScoreRecord& score) const {
    return score.result_sourcedid.empty() ? ags_ : basic_outcomes_;
  }
  passback::GradeSink& ags_;
  passback::GradeSink& basic_outcomes_;
};

}  // namespace gb::platforms
