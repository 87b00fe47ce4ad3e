/**
 * DescribeConfigs (key 32), v0-v2, for topics and this broker: the settings admin clients read.
 * https://kafka.apache.org/protocol#The_Messages_DescribeConfigs
 */
import { Writer } from '../codec';
import type { ApiModule, BrokerServices } from '../api';
import { ErrorCode, type ErrorCodeValue } from '../error-codes';

const RESOURCE_TOPIC = 2;
const RESOURCE_BROKER = 4;
/** config_source values (KIP-226). */
const SOURCE_TOPIC = 1;
const SOURCE_STATIC_BROKER = 4;
const SOURCE_DEFAULT = 5;

interface ConfigEntry {
  name: string;
  value: string | null;
  source: number;
}

function topicConfigs(broker: BrokerServices, name: string): ConfigEntry[] | null {
  const topic = broker.topics.get(name);
  if (!topic) return null;
  const entry = (key: string, fallback: string): ConfigEntry =>
    topic.configs[key] !== undefined ? { name: key, value: topic.configs[key]!, source: SOURCE_TOPIC } : { name: key, value: fallback, source: SOURCE_DEFAULT };
  const d = broker.topics.defaults;
  const own = Object.keys(topic.configs).map((k) => entry(k, ''));
  const standard = [
    entry('cleanup.policy', 'delete'),
    entry('retention.ms', String(d.retentionMs)),
    entry('retention.bytes', String(d.retentionBytes)),
    entry('segment.bytes', String(d.segmentBytes)),
    entry('max.message.bytes', String(d.maxMessageBytes)),
    entry('min.insync.replicas', '1'),
    entry('compression.type', 'producer'),
    entry('message.timestamp.type', 'CreateTime'),
  ];
  return [...standard, ...own.filter((o) => !standard.some((s) => s.name === o.name))];
}

function brokerConfigs(broker: BrokerServices): ConfigEntry[] {
  const c = broker.config;
  const d = broker.topics.defaults;
  const entry = (name: string, value: string): ConfigEntry => ({ name, value, source: SOURCE_STATIC_BROKER });
  return [
    entry('broker.id', String(broker.nodeId)),
    entry('auto.create.topics.enable', String(d.autoCreate)),
    entry('num.partitions', String(d.partitions)),
    entry('default.replication.factor', '1'),
    entry('log.retention.ms', String(d.retentionMs)),
    entry('log.retention.bytes', String(d.retentionBytes)),
    entry('log.segment.bytes', String(d.segmentBytes)),
    entry('message.max.bytes', String(d.maxMessageBytes)),
    entry('socket.request.max.bytes', String(c.HEARTH_BROKER_MAX_REQUEST_BYTES)),
    entry('group.min.session.timeout.ms', String(c.HEARTH_BROKER_GROUP_MIN_SESSION_TIMEOUT_MS)),
    entry('group.max.session.timeout.ms', String(c.HEARTH_BROKER_GROUP_MAX_SESSION_TIMEOUT_MS)),
    entry('group.initial.rebalance.delay.ms', String(c.HEARTH_BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS)),
    entry('offsets.topic.replication.factor', '1'),
    entry('transaction.state.log.replication.factor', '1'),
  ];
}

export const describeConfigs: ApiModule = {
  key: 32,
  name: 'DescribeConfigs',
  minVersion: 0,
  maxVersion: 2,
  handle({ version, body, broker }) {
    const resources = body.array((r) => ({ type: r.int8(), name: r.string(), keys: r.nullableArray((r) => r.string()) }));
    const includeSynonyms = version >= 1 ? body.boolean() : false;
    const results = resources.map((res) => {
      let errorCode: ErrorCodeValue = ErrorCode.NONE;
      let message: string | null = null;
      let configs: ConfigEntry[] = [];
      if (res.type === RESOURCE_TOPIC) {
        const found = topicConfigs(broker, res.name);
        if (found) configs = found;
        else [errorCode, message] = [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${res.name}`];
      } else if (res.type === RESOURCE_BROKER) {
        if (res.name === '' || res.name === String(broker.nodeId)) configs = brokerConfigs(broker);
        else [errorCode, message] = [ErrorCode.INVALID_REQUEST, `unknown broker ${res.name}`];
      } else {
        [errorCode, message] = [ErrorCode.INVALID_REQUEST, `resource type ${res.type} is not supported`];
      }
      if (res.keys !== null) configs = configs.filter((c) => res.keys!.includes(c.name));
      return { ...res, errorCode, message, configs };
    });
    const w = new Writer().int32(0);
    return w.array(results, (w, r) => {
      w.int16(r.errorCode).nullableString(r.message).int8(r.type).string(r.name);
      w.array(r.configs, (w, c) => {
        w.string(c.name).nullableString(c.value).boolean(false);
        if (version === 0) w.boolean(c.source === SOURCE_DEFAULT);
        else w.int8(c.source);
        w.boolean(false);
        if (version >= 1) {
          w.array(includeSynonyms ? [c] : [], (w, s) => w.string(s.name).nullableString(s.value).int8(s.source));
        }
      });
    });
  },
};
