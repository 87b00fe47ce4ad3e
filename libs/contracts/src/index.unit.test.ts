import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placeholder } from './index';
test('placeholder', () => assert.equal(placeholder, 1));
