// Versioned schema of the SQLite store. PRAGMA user_version holds the version of the last applied
// step; PRAGMA application_id marks the file as a cpmgw store.
#pragma once

#include <cstdint>
#include <span>

#include "store/sqlite_db.h"

namespace cpmgw::store {

// "cpmg" in ASCII: tells our files apart from any other SQLite database.
inline constexpr std::int32_t kApplicationId = 0x63706d67;

std::span<const Migration> migrations();
int latestSchemaVersion();

// Applies, in order, every step above the file's user_version up to `target` (the latest when 0), each
// in its own transaction together with the user_version bump, so a crash leaves a consistent version.
void migrate(Database& db, int target = 0);

}  // namespace cpmgw::store
