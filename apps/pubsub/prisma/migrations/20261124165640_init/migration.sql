-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "consumer_checkpoints" (
    "consumer" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "next_offset" BIGINT NOT NULL,

    CONSTRAINT "consumer_checkpoints_pkey" PRIMARY KEY ("consumer","topic","partition")
);

-- CreateTable
CREATE TABLE "pubsub_nodes" (
    "service" TEXT NOT NULL,
    "node" TEXT NOT NULL,
    "creator" TEXT NOT NULL,
    "configuration" JSONB NOT NULL,
    "max_items" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "pubsub_nodes_pkey" PRIMARY KEY ("service","node")
);

-- CreateTable
CREATE TABLE "pubsub_affiliations" (
    "service" TEXT NOT NULL,
    "node" TEXT NOT NULL,
    "jid" TEXT NOT NULL,
    "affiliation" TEXT NOT NULL,

    CONSTRAINT "pubsub_affiliations_pkey" PRIMARY KEY ("service","node","jid")
);

-- CreateTable
CREATE TABLE "pubsub_subscriptions" (
    "service" TEXT NOT NULL,
    "node" TEXT NOT NULL,
    "subid" TEXT NOT NULL,
    "jid" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "options" JSONB NOT NULL,
    "seq" BIGINT NOT NULL,

    CONSTRAINT "pubsub_subscriptions_pkey" PRIMARY KEY ("service","node","subid")
);

-- CreateTable
CREATE TABLE "pubsub_items" (
    "service" TEXT NOT NULL,
    "node" TEXT NOT NULL,
    "item_id" TEXT NOT NULL,
    "publisher" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "published_at" TIMESTAMPTZ(3) NOT NULL,
    "seq" BIGINT NOT NULL,

    CONSTRAINT "pubsub_items_pkey" PRIMARY KEY ("service","node","item_id")
);

-- CreateIndex
CREATE INDEX "pubsub_affiliations_jid_idx" ON "pubsub_affiliations"("jid");

-- CreateIndex
CREATE INDEX "pubsub_subscriptions_jid_idx" ON "pubsub_subscriptions"("jid");

-- CreateIndex
CREATE INDEX "pubsub_items_service_node_seq_idx" ON "pubsub_items"("service", "node", "seq");

