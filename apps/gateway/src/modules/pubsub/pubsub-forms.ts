import { StanzaError } from '../../stream/errors';
import { buildForm, DATA_FORMS_NS, readForm, type FormField } from '../../xml/data-form';
import type { Element } from '../../xml/element';
import type { WireForm } from './pubsub-calls';

/** XEP-0060 §16.4 form types. */
export const FORM_TYPES = {
  nodeConfig: 'http://jabber.org/protocol/pubsub#node_config',
  subscribeOptions: 'http://jabber.org/protocol/pubsub#subscribe_options',
  publishOptions: 'http://jabber.org/protocol/pubsub#publish-options',
  metaData: 'http://jabber.org/protocol/pubsub#meta-data',
} as const;

/** How the fields the service renders are shown (XEP-0060 §16.4.4 registry); list-single comes from the service's options. */
const FIELDS: Record<string, Pick<FormField, 'type' | 'label'>> = {
  'pubsub#title': { type: 'text-single', label: 'A friendly name for the node' },
  'pubsub#send_last_published_item': { label: 'When to send the last published item' },
  'pubsub#max_items': { type: 'text-single', label: 'Max # of items to persist' },
  'pubsub#persist_items': { type: 'boolean', label: 'Persist items to storage' },
  'pubsub#deliver_payloads': { type: 'boolean', label: 'Deliver payloads with event notifications' },
  'pubsub#notify_retract': { type: 'boolean', label: 'Notify subscribers when items are removed from the node' },
  'pubsub#notify_delete': { type: 'boolean', label: 'Notify subscribers when the node is deleted' },
  'pubsub#access_model': { label: 'Who may subscribe and retrieve items' },
  'pubsub#publish_model': { label: 'Who may publish items' },
  'pubsub#deliver': { type: 'boolean', label: 'Enable delivery?' },
};

/**
 * The `<x xmlns='jabber:x:data'/>` inside `parent` as the service's wire form, FORM_TYPE checked
 * and left out (the call implies it); no form → empty.
 */
export function formToWire(parent: Element | undefined, formType: string): WireForm {
  if (!parent) return {};
  const form = readForm(parent);
  if (!form) return {};
  if (form.formType !== undefined && form.formType !== formType) throw new StanzaError('bad-request', `the form's FORM_TYPE is ${formType}`);
  const wire: WireForm = {};
  for (const [field, values] of form.values) if (field !== 'FORM_TYPE') wire[field] = { values };
  return wire;
}

/** Whether `parent` holds a cancelled form (XEP-0004 §3.5, XEP-0060 §8.2.5 "cancel" configuration). */
export function isCancelled(parent: Element): boolean {
  return parent.child('x', DATA_FORMS_NS)?.attr('type') === 'cancel';
}

/** A form to fill in (`type='form'`) from the service's values, list-single choices included. */
export function wireToForm(formType: string, values: WireForm, options: WireForm = {}): Element {
  return buildForm('form', formType, Object.entries(values).sort(([a], [b]) => a.localeCompare(b)).map(([field, { values: v }]) => {
    const choices = options[field]?.values;
    return { var: field, type: choices ? 'list-single' : FIELDS[field]?.type ?? 'text-single', label: FIELDS[field]?.label, values: v, options: choices };
  }));
}
