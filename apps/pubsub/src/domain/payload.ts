import { SaxesParser } from 'saxes';
import { refuse } from './pubsub-error';

/**
 * Checks an item payload as the gateway serialised it: well-formed XML, exactly one element
 * (XEP-0060 §7.1.3.5 invalid-payload: "more than one payload element"), namespace-qualified
 * (§7.1: "the payload MUST be qualified by a namespace"), and within the size limit
 * (HEARTH_PUBSUB_MAX_PAYLOAD_BYTES; §7.1.3.4 payload-too-big).
 */
export function checkPayload(xml: string, maxBytes: number): void {
  if (Buffer.byteLength(xml, 'utf8') > maxBytes) throw refuse.payloadTooBig(maxBytes);
  const parser = new SaxesParser({ xmlns: true });
  let roots = 0;
  let depth = 0;
  let rootNamespace = '';
  let failure: string | undefined;
  parser.on('error', (error) => {
    failure ??= error.message;
  });
  parser.on('opentag', (tag) => {
    if (depth === 0) {
      roots++;
      rootNamespace = tag.uri;
    }
    depth++;
  });
  parser.on('closetag', () => {
    depth--;
  });
  try {
    parser.write(xml).close();
  } catch (error) {
    failure ??= (error as Error).message;
  }
  if (failure !== undefined) throw refuse.invalidPayload(`the payload is not well-formed XML: ${failure.split('\n')[0]}`);
  if (roots !== 1) throw refuse.invalidPayload(`an item carries exactly one payload element, not ${roots}`);
  if (rootNamespace === '') throw refuse.invalidPayload('the payload element must be qualified by a namespace');
}
