import { describe, expect, it } from 'vitest';
import { formatCountdown, groupCode, normalizeCode } from './code-format.ts';

describe('link code formatting', () => {
  it('normalizes what people type or paste: case, spaces, dashes and line breaks do not matter', () => {
    expect(normalizeCode(' 7k2m-qx9p\n  ab cd ')).toBe('7K2MQX9PABCD');
    expect(normalizeCode('')).toBe('');
  });

  it('groups a code by four, the last group possibly shorter', () => {
    expect(groupCode('7K2M-QX9P-ABCD')).toEqual(['7K2M', 'QX9P', 'ABCD']);
    expect(groupCode('7k2mqx9pa')).toEqual(['7K2M', 'QX9P', 'A']);
    expect(groupCode('')).toEqual([]);
  });

  it('shows the time left as m:ss, rounding up and stopping at zero', () => {
    expect(formatCountdown(600_000)).toBe('10:00');
    expect(formatCountdown(247_001)).toBe('4:08');
    expect(formatCountdown(59_000)).toBe('0:59');
    expect(formatCountdown(1)).toBe('0:01');
    expect(formatCountdown(0)).toBe('0:00');
    expect(formatCountdown(-5_000)).toBe('0:00');
  });
});
