import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labelText } from './labels.js';

describe('labelText', () => {
  it('writes each label as name="value" in the order given, nothing without labels', () => {
    assert.equal(labelText({ mount: '/', fs: 'ext4' }), '{mount="/", fs="ext4"}');
    assert.equal(labelText({}), '');
    assert.equal(labelText(undefined), '');
  });

  it('quotes a value that holds quotes or backslashes so that it cannot end early', () => {
    assert.equal(labelText({ share: '\\\\nas\\scans "old"' }), '{share="\\\\\\\\nas\\\\scans \\"old\\""}');
  });
});
