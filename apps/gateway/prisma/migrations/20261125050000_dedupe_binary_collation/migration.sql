-- The dedupe key (sender JID, client message id) is an identifier, looked up for equality on
-- every message: the "C" collation compares its bytes instead of calling the C library's
-- linguistic comparison for each step down the primary key. The key's index is rebuilt.
ALTER TABLE "message_dedupe"
  ALTER COLUMN "sender" TYPE TEXT COLLATE "C",
  ALTER COLUMN "client_id" TYPE TEXT COLLATE "C";
