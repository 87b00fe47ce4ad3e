-- Retention deletes by accepted_at; rows arrive in about that order, so a BRIN index serves it at
-- a fraction of a B-tree's cost per inserted row.
DROP INDEX "archive_messages_accepted_at_idx";
CREATE INDEX "archive_messages_accepted_at_idx" ON "archive_messages" USING BRIN ("accepted_at");
