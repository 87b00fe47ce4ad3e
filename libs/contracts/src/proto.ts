import { join } from 'node:path';

/** The folder of the gRPC APIs' .proto files (shipped beside the compiled library). */
export const protoDir = join(__dirname, '../../proto');

/** Path of one service's .proto file, e.g. `protoPath('archive')`. */
export const protoPath = (service: string): string => join(protoDir, `${service}.proto`);
