import { StanzaError } from '../stream/errors';
import { xml, type Element } from './element';

export const DATA_FORMS_NS = 'jabber:x:data';

/** A submitted XEP-0004 data form: its FORM_TYPE and each field's values (multi-valued fields keep all). */
export interface SubmittedForm {
  formType: string | undefined;
  values: ReadonlyMap<string, string[]>;
  /** The first value of a field, or undefined when the field is absent. */
  get(field: string): string | undefined;
}

/** Reads the `<x xmlns="jabber:x:data"/>` child of `parent`, or undefined when there is none. */
export function readForm(parent: Element): SubmittedForm | undefined {
  const form = parent.child('x', DATA_FORMS_NS);
  if (!form) return undefined;
  const type = form.attr('type');
  if (type !== 'submit' && type !== 'form' && type !== 'result') throw new StanzaError('bad-request', 'a data form has type submit');
  const values = new Map<string, string[]>();
  for (const field of form.childrenNamed('field', DATA_FORMS_NS)) {
    const name = field.attr('var');
    if (!name) continue;
    values.set(name, field.childrenNamed('value', DATA_FORMS_NS).map((value) => value.text()));
  }
  return {
    formType: values.get('FORM_TYPE')?.[0],
    values,
    get: (field) => values.get(field)?.[0],
  };
}

export interface FormField {
  var: string;
  type?: 'boolean' | 'fixed' | 'hidden' | 'jid-multi' | 'jid-single' | 'list-multi' | 'list-single' | 'text-multi' | 'text-private' | 'text-single';
  label?: string;
  values?: string[];
  /** The choices of a list-single or list-multi field (XEP-0004 §3.2 `<option/>`). */
  options?: string[];
}

/** Builds a form (`type` form or result) with a hidden FORM_TYPE first, as XEP-0068 asks. */
export function buildForm(type: 'form' | 'result' | 'submit', formType: string, fields: FormField[]): Element {
  return xml('x', DATA_FORMS_NS, { type },
    xml('field', DATA_FORMS_NS, { var: 'FORM_TYPE', type: 'hidden' }, xml('value', DATA_FORMS_NS, {}, formType)),
    ...fields.map((field) => xml('field', DATA_FORMS_NS, { var: field.var, type: field.type, label: field.label },
      ...(field.values ?? []).map((value) => xml('value', DATA_FORMS_NS, {}, value)),
      ...(field.options ?? []).map((option) => xml('option', DATA_FORMS_NS, {}, xml('value', DATA_FORMS_NS, {}, option))))));
}
