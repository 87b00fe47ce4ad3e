export { freePort } from './ports';
export { startPostgres, type TestPostgres } from './postgres';
export { startBroker, type RunningBroker, type StartBrokerOptions } from './broker';
export { connectXmpp, failedLogin, trustCertificate, xml, TestXmppClient, type XmppElement, type XmppLogin, type SaslMechanismName } from './xmpp';
export { APNS_MAX_PAYLOAD_BYTES, startApnsServer, type ApnsReply, type ApnsRequest, type RunningApns, type StartApnsOptions } from './apns';
export { startService, withClient, type RunningService, type StartServiceOptions } from './service';
export { RawXmppConnection, type RawXmppOptions } from './raw-xmpp';
export { createBenchAccounts, rssBytes, startBenchGateway, type BenchGateway } from './bench-gateway';
export { cpuByPart, cpuReport, cpuSeconds, partsOf, snapshotCpu, type CpuSnapshot } from './process-cpu';
