#include "store/migrations.h"

#include <array>
#include <string>

#include "store/sqlite_db.h"

namespace cpmgw::store {

namespace {

// Step 4: the CHECK on messages.state as comparisons joined by OR instead of an IN list. SQLite evaluates
// an IN list of more than two values through a temporary b-tree, built and torn down again for every
// INSERT and UPDATE of a message: about a twentieth of the store writer's time in a profile. Both forms
// accept the same values, so no row or page changes: this is SQLite's documented procedure for changing a
// CHECK constraint in place (the table's CREATE statement rewritten under writable_schema, the schema
// cookie bumped so that every connection reads the schema again), inside the step's transaction.
void stateCheckWithoutInList(Database& db) {
  static const std::string kInList = "CHECK (state IN ('queued', 'leased', 'delivered', 'failed', 'deleted'))";
  static const std::string kComparisons =
      "CHECK (state = 'queued' OR state = 'leased' OR state = 'delivered' OR state = 'failed' OR "
      "state = 'deleted')";
  std::string sql = db.queryText("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'messages'");
  auto at = sql.find(kInList);
  if (at == std::string::npos)
    throw SqliteError(SQLITE_CORRUPT, "the messages table is not as step 1 made it (no " + kInList + ")");
  sql.replace(at, kInList.size(), kComparisons);
  std::int64_t cookie = db.queryInt("PRAGMA schema_version");
  db.exec("PRAGMA writable_schema = ON");
  {
    auto update = db.prepare("UPDATE sqlite_schema SET sql = ?1 WHERE type = 'table' AND name = 'messages'");
    update.bind(1, sql);
    update.run();
  }
  db.exec("PRAGMA schema_version = " + std::to_string(cookie + 1));
  db.exec("PRAGMA writable_schema = RESET");  // off, and this connection reads the schema again
}

// Steps are append-only: once released, a step is never edited; a change is a new step.
constexpr std::array<Migration, 4> kMigrations{{
    {1, "messages, history and external ids", R"sql(
CREATE TABLE messages (
  id              TEXT PRIMARY KEY NOT NULL,
  seq             INTEGER NOT NULL UNIQUE,
  conv_key        TEXT NOT NULL,
  from_addr       TEXT NOT NULL,
  to_addr         TEXT NOT NULL,
  content_type    TEXT NOT NULL DEFAULT '',
  body            BLOB,
  file_ref        TEXT NOT NULL DEFAULT '',
  ingress         TEXT NOT NULL DEFAULT '',
  egress          TEXT NOT NULL DEFAULT '',
  decision        TEXT NOT NULL DEFAULT '',
  attributes      TEXT NOT NULL DEFAULT '{}',
  state           TEXT NOT NULL CHECK (state IN ('queued', 'leased', 'delivered', 'failed', 'deleted')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  lease_until     INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX messages_by_state ON messages(state, seq);
CREATE INDEX messages_by_to ON messages(to_addr, seq);

-- message_seq (the message's seq) keys the per-message indexes: rows of messages in flight then sit
-- together at the end of the index instead of on random pages picked by the random message id, which
-- cut the pages each group commit writes by about a third.
CREATE TABLE message_events (
  id          INTEGER PRIMARY KEY,
  message_id  TEXT NOT NULL REFERENCES messages(id),
  message_seq INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  state       TEXT NOT NULL,
  detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX message_events_by_message ON message_events(message_seq, id);

CREATE TABLE external_ids (
  kind        TEXT NOT NULL,
  value       TEXT NOT NULL,
  message_id  TEXT NOT NULL REFERENCES messages(id),
  message_seq INTEGER NOT NULL,
  UNIQUE (kind, value)
);
CREATE INDEX external_ids_by_message ON external_ids(message_seq);
)sql"},
    // conv_head marks the oldest unfinished message of each (from, to) pair: lease() then reads only heads
    // through a small partial index instead of testing every queued row against its conversation.
    {2, "conversation heads and queue indexes", R"sql(
ALTER TABLE messages ADD COLUMN conv_head INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_open_by_conv ON messages(conv_key, seq) WHERE state IN ('queued', 'leased');
UPDATE messages SET conv_head = 1
 WHERE state IN ('queued', 'leased')
   AND NOT EXISTS (SELECT 1 FROM messages o
                    WHERE o.conv_key = messages.conv_key AND o.state IN ('queued', 'leased')
                      AND o.seq < messages.seq);
CREATE INDEX messages_due ON messages(next_attempt_at, seq) WHERE state = 'queued' AND conv_head = 1;
CREATE INDEX messages_due_by_egress ON messages(egress, next_attempt_at, seq) WHERE state = 'queued' AND conv_head = 1;
CREATE INDEX messages_open_by_egress ON messages(egress, state) WHERE state IN ('queued', 'leased');
)sql"},
    {3, "users", R"sql(
CREATE TABLE users (
  uri        TEXT PRIMARY KEY NOT NULL,
  auth_name  TEXT NOT NULL,
  realm      TEXT NOT NULL,
  ha1        TEXT NOT NULL,
  enabled    INTEGER NOT NULL DEFAULT 1,
  updated_at INTEGER NOT NULL
);
CREATE INDEX messages_queued_by_created ON messages(created_at) WHERE state = 'queued';
)sql"},
    {4, "state check without a temporary b-tree", nullptr, &stateCheckWithoutInList},
}};

}  // namespace

std::span<const Migration> migrations() {
  return kMigrations;
}

int latestSchemaVersion() {
  return kMigrations.back().version;
}

void migrate(Database& db, int target) {
  if (target <= 0 || target > latestSchemaVersion()) target = latestSchemaVersion();
  applyMigrations(db, kMigrations, kApplicationId, target);
}

}  // namespace cpmgw::store
