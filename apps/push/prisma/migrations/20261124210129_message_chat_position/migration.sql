-- AlterTable
ALTER TABLE "push_sends" ADD COLUMN     "chat_peer" TEXT,
ADD COLUMN     "message_position" BIGINT;

-- CreateIndex
CREATE INDEX "push_sends_user_jid_chat_peer_message_position_idx" ON "push_sends"("user_jid", "chat_peer", "message_position");

