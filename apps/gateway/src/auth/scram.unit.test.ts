import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveCredential, verifyClientProof } from './scram';

// RFC 7677 §3, the SCRAM-SHA-256 example exchange (user "user", password "pencil").
const clientFirstBare = 'n=user,r=rOprNGfwEbeRWgbNEkqO';
const serverFirst = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
const finalWithoutProof = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
const proof = Buffer.from('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'base64');
const authMessage = `${clientFirstBare},${serverFirst},${finalWithoutProof}`;

test('the stored credential accepts the RFC 7677 example proof and yields its server signature', async () => {
  const credential = await deriveCredential('sha256', 'pencil', 4096, Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
  const signature = verifyClientProof(credential, 'sha256', authMessage, proof);
  assert.equal(signature?.toString('base64'), '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
});

test('a proof made with another password is refused', async () => {
  const credential = await deriveCredential('sha256', 'not pencil', 4096, Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
  assert.equal(verifyClientProof(credential, 'sha256', authMessage, proof), null);
});
