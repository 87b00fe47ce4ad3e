import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Logger } from '@hearth/runtime';
import { generate } from 'selfsigned';

export interface CertificateFiles {
  cert: string;
  key: string;
  certFile: string;
}

const DEV_CERT_DAYS = 825;

/**
 * The certificate for STARTTLS, direct TLS and HTTPS: the configured files in production, or a
 * self-signed development certificate created once under `<dataDir>/gateway/` for every hosted
 * domain (plus 127.0.0.1 and ::1, so local tests can verify it by address).
 */
export async function loadCertificate(options: { certFile?: string; keyFile?: string; dataDir: string; domains: string[] }, logger: Logger): Promise<CertificateFiles> {
  if (options.certFile && options.keyFile) {
    return { cert: readFileSync(options.certFile, 'utf8'), key: readFileSync(options.keyFile, 'utf8'), certFile: options.certFile };
  }
  const dir = join(options.dataDir, 'gateway');
  const certFile = join(dir, 'dev-cert.pem');
  const keyFile = join(dir, 'dev-key.pem');
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    mkdirSync(dir, { recursive: true });
    const notAfterDate = new Date(Date.now() + DEV_CERT_DAYS * 86_400_000);
    const pems = await generate([{ name: 'commonName', value: options.domains[0]! }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notAfterDate,
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [...options.domains.map((value) => ({ type: 2 as const, value })), { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
      ],
    });
    writeFileSync(keyFile, pems.private, { mode: 0o600 });
    writeFileSync(certFile, pems.cert);
    logger.warn({ certFile }, 'no HEARTH_TLS_CERT_FILE configured: generated a self-signed development certificate');
  }
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile };
}

export function secureContext(files: CertificateFiles): SecureContext {
  return createSecureContext({ cert: files.cert, key: files.key, minVersion: 'TLSv1.2' });
}
