// lightq version: the single source of the version number (CMake parses these lines).
#pragma once

#define LIGHTQ_VERSION_MAJOR 0
#define LIGHTQ_VERSION_MINOR 1
#define LIGHTQ_VERSION_PATCH 0

#define LIGHTQ_VERSION (LIGHTQ_VERSION_MAJOR * 10000 + LIGHTQ_VERSION_MINOR * 100 + LIGHTQ_VERSION_PATCH)

namespace lightq {
/// The library version as "major.minor.patch".
inline constexpr const char* version_string = "0.1.0";
}  // namespace lightq
