-- JIDs, stanza ids and conversation ids are identifiers: they are compared for equality and kept
-- in B-trees, never sorted for people to read. The "C" collation compares their bytes, where the
-- database's linguistic collation called the C library for every comparison: about 15% of
-- PostgreSQL's time on ingest went there. Equality is unchanged; the indexes on these columns are
-- rebuilt by this migration.
ALTER TABLE "archive_messages"
  ALTER COLUMN "owner" TYPE TEXT COLLATE "C",
  ALTER COLUMN "stanza_id" TYPE TEXT COLLATE "C",
  ALTER COLUMN "peer" TYPE TEXT COLLATE "C";
ALTER TABLE "archive_owners" ALTER COLUMN "owner" TYPE TEXT COLLATE "C";
ALTER TABLE "archive_chats"
  ALTER COLUMN "owner" TYPE TEXT COLLATE "C",
  ALTER COLUMN "peer" TYPE TEXT COLLATE "C";
ALTER TABLE "archive_conversations"
  ALTER COLUMN "owner" TYPE TEXT COLLATE "C",
  ALTER COLUMN "conversation_id" TYPE TEXT COLLATE "C";
ALTER TABLE "conversation_trackers"
  ALTER COLUMN "owner" TYPE TEXT COLLATE "C",
  ALTER COLUMN "peer" TYPE TEXT COLLATE "C";
ALTER TABLE "archive_preferences"
  ALTER COLUMN "owner" TYPE TEXT COLLATE "C",
  ALTER COLUMN "event_id" TYPE TEXT COLLATE "C";
