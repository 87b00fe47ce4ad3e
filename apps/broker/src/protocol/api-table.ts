/**
 * The APIs this broker implements; ApiVersions advertises exactly these version ranges.
 * They cover what kafkajs 2.x and librdkafka (kcat) use; anything else closes the connection
 * with a log line, as Kafka does for requests it cannot parse.
 */
import type { ApiModule } from './api';
import { apiVersions } from './apis/api-versions';
import { createPartitions } from './apis/create-partitions';
import { createTopics } from './apis/create-topics';
import { deleteGroups } from './apis/delete-groups';
import { deleteTopics } from './apis/delete-topics';
import { describeConfigs } from './apis/describe-configs';
import { describeGroups } from './apis/describe-groups';
import { fetch } from './apis/fetch';
import { findCoordinator } from './apis/find-coordinator';
import { heartbeat } from './apis/heartbeat';
import { initProducerId } from './apis/init-producer-id';
import { joinGroup } from './apis/join-group';
import { leaveGroup } from './apis/leave-group';
import { listGroups } from './apis/list-groups';
import { listOffsets } from './apis/list-offsets';
import { metadata } from './apis/metadata';
import { offsetCommit } from './apis/offset-commit';
import { offsetFetch } from './apis/offset-fetch';
import { produce } from './apis/produce';
import { syncGroup } from './apis/sync-group';

export const API_MODULES: readonly ApiModule[] = [
  produce, fetch, listOffsets, metadata, offsetCommit, offsetFetch, findCoordinator, joinGroup, heartbeat,
  leaveGroup, syncGroup, describeGroups, listGroups, apiVersions, createTopics, deleteTopics, initProducerId,
  describeConfigs, createPartitions, deleteGroups,
].sort((a, b) => a.key - b.key);

export const API_BY_KEY: ReadonlyMap<number, ApiModule> = new Map(API_MODULES.map((m) => [m.key, m]));
