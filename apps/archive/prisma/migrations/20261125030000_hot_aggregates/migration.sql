-- Chats, conversations, trackers and owners are rewritten by every batch that touches them. An
-- update that changes no indexed column and finds room on its page is HOT: no new index entries,
-- and the dead version is pruned in place. An index on last_seq made every such update a full one
-- (three index insertions, then cleanup), which under live traffic cost more PostgreSQL time than
-- archiving the messages themselves. Chats and conversations are indexed instead by their block
-- of 1,024 archive positions, which changes once per 1,024 messages of the owner; queries narrow
-- by block, then by last_seq. Free space on each page (fillfactor) keeps the new version beside
-- the old one.
ALTER TABLE "archive_chats" ADD COLUMN "last_seq_block" BIGINT GENERATED ALWAYS AS ("last_seq" / 1024) STORED;
DROP INDEX "archive_chats_owner_last_seq_idx";
CREATE INDEX "archive_chats_owner_last_seq_block_idx" ON "archive_chats"("owner", "last_seq_block");

ALTER TABLE "archive_conversations" ADD COLUMN "last_seq_block" BIGINT GENERATED ALWAYS AS ("last_seq" / 1024) STORED;
DROP INDEX "archive_conversations_owner_last_seq_idx";
CREATE INDEX "archive_conversations_owner_last_seq_block_idx" ON "archive_conversations"("owner", "last_seq_block");

ALTER TABLE "archive_owners" SET (fillfactor = 70);
ALTER TABLE "archive_chats" SET (fillfactor = 70);
ALTER TABLE "archive_conversations" SET (fillfactor = 70);
ALTER TABLE "conversation_trackers" SET (fillfactor = 70);
