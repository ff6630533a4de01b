// StrongId<Tag>: a string id that cannot be mixed up with another kind of id at compile time
// (a TenantId is not a RegistrationId even though both are strings underneath).
#pragma once

#include <compare>
#include <functional>
#include <string>
#include <utility>

namespace gb {

template <typename Tag>
class StrongId {
 public:
  StrongId() = default;
  explicit StrongId(std::string value) : value_(std::move(value)) {}
  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }
  auto operator<=>(const StrongId&) const = default;

 private:
  std::string value_;
};

}  // namespace gb

template <typename Tag>
struct std::hash<gb::StrongId<Tag>> {
  size_t operator()(const gb::StrongId<Tag>& id) const noexcept {
    return std::hash<std::string>()(id.str());
  }
};
