import { describe, expect, it } from 'vitest';
import { compileLegacyFormat, FormatError } from '../../../src/mapping/formats.ts';

describe('compileLegacyFormat', () => {
  it('reads the parts it names', () => {
    expect(compileLegacyFormat('yyyyMMddHHmmssSSS').parse('20240902143005123')).toEqual({
      year: 2024,
      month: 9,
      day: 2,
      hour: 14,
      minute: 30,
      second: 5,
      fraction: '123',
    });
  });
  it('treats regex characters in literals literally', () => {
    const format = compileLegacyFormat('yyyy.MM.dd');
    expect(format.parse('2024.09.02')).toBeDefined();
    expect(format.parse('2024x09x02')).toBeUndefined();
  });
  it("supports quoted letters and '' for a quote", () => {
    expect(compileLegacyFormat("yyyy'y'MM''dd").parse("2024y09'02")).toMatchObject({ year: 2024, month: 9, day: 2 });
  });
  it('says whether it reads a time', () => {
    expect(compileLegacyFormat('yyyyMMdd').hasTime).toBe(false);
    expect(compileLegacyFormat('yyyyMMddHHmm').hasTime).toBe(true);
  });
  it.each([
    ['yyMMdd', '"yy": two-digit years are ambiguous, use yyyy'],
    ['yyyyMMddQ', 'unknown token "Q" in format "yyyyMMddQ"'],
    ['yyyyMM', 'format "yyyyMM" has no day (needs yyyy, MM and dd)'],
    ['yyyyMMddMM', '"MM": the month appears twice in format "yyyyMMddMM"'],
    ["yyyy'MMdd", 'unterminated quote in format'],
    ['yyyyMMddSSSSSSSSSS', 'at most 9 fraction digits'],
  ])('refuses %s', (format, message) => {
    expect(() => compileLegacyFormat(format)).toThrow(FormatError);
    expect(() => compileLegacyFormat(format)).toThrow(message);
  });
});
