import { beforeEach, describe, expect, it } from 'vitest';
import { interpolateEnv, protectReferences, restoreBraces } from '../../../src/config/env.ts';
import { clearSecrets, isSecret } from '../../../src/util/secrets.ts';

beforeEach(() => clearSecrets());

describe('interpolateEnv', () => {
  it('substitutes ${VAR} anywhere in a string, in nested values, not in keys', () => {
    const { value, problems } = interpolateEnv(
      { a: 'x${A}y${B}z', list: ['${A}', 7, true, null], nested: { '${A}': '${B}' } },
      { A: 'alpha', B: 'beta' },
    );
    expect(problems).toEqual([]);
    expect(value).toEqual({ a: 'xalphaybetaz', list: ['alpha', 7, true, null], nested: { '${A}': 'beta' } });
  });

  it('$${ is a literal ${, a lone $ stays', () => {
    const { value } = interpolateEnv({ a: 'cost $5, $${HOME} and pa$$word' }, { HOME: '/root' });
    expect(value).toEqual({ a: 'cost $5, ${HOME} and pa$$word' });
  });

  it('an empty variable is a value, an unset one a problem at its path', () => {
    const { value, problems } = interpolateEnv({ a: '[${EMPTY}]', s: [{ url: 'u:${NOPE}' }] }, { EMPTY: '' });
    expect(value).toMatchObject({ a: '[]' });
    expect(problems).toEqual([{ path: ['s', 0, 'url'], message: 'environment variable NOPE is not set' }]);
  });

  it('refuses malformed references', () => {
    expect(interpolateEnv({ a: '${ A }' }, {}).problems[0]?.message).toBe(
      'invalid variable reference ${ A } (expected ${NAME}, NAME of letters, digits and _)',
    );
    expect(interpolateEnv({ a: 'x${A' }, {}).problems[0]?.message).toBe('unterminated ${ (write $${ for a literal ${)');
  });

  it('registers every substituted value as a secret', () => {
    interpolateEnv({ a: '${A}', b: 'literal-value' }, { A: 'super-secret' });
    expect(isSecret('super-secret')).toBe(true);
    expect(isSecret('literal-value')).toBe(false);
  });
});

describe('protectReferences', () => {
  it('keeps the text length and restores exactly', () => {
    const text = 'http: { token: ${T} }\nx: $${Y}\n';
    const protectedText = protectReferences(text);
    expect(protectedText).not.toContain('{T}');
    expect(protectedText.length).toBe(text.length);
    expect(restoreBraces(protectedText)).toBe(text);
  });
});
